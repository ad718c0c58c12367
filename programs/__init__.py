"""Stepladder's Pulumi project: the tier ladder as plain Pulumi programs.

`build(spec)` declares every resource of an environment at the spec's tier. The control plane
calls it inline; `__main__.py` calls it from stack config when an operator runs `pulumi up`.
This package imports only `pulumi*` and the standard library.
"""

from programs.errors import DefinitionError
from programs.ladder import TIERS, Tier, tier_by_level
from programs.spec import EnvironmentSpec
from programs.stack import build
from programs.stateful import STATEFUL_TYPES, is_stateful

__all__ = [
    "STATEFUL_TYPES",
    "TIERS",
    "DefinitionError",
    "EnvironmentSpec",
    "Tier",
    "build",
    "is_stateful",
    "tier_by_level",
]
