"""Entry point for running the ladder by hand: `pulumi up` in this folder reads stack config.

Example: `pulumi config set stepladder:tier 2 && pulumi config set aws:region eu-west-1`.
"""

import pulumi

from programs.config import spec_from_config
from programs.stack import build

build(spec_from_config(pulumi.Config("stepladder"), pulumi.get_stack()))
