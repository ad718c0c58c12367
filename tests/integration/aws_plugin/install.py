"""Installs the simulated provider into one test run's PULUMI_HOME, as the `aws` plugin."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from tests.integration.aws_plugin.server import ACCOUNT_DIR_VARIABLE, plugin_version

REPOSITORY = Path(__file__).resolve().parents[3]


def install_simulated_aws(pulumi_home: Path, account_dir: Path) -> Path:
    """Writes `plugins/resource-aws-v<version>/pulumi-resource-aws`: where the engine looks for
    the plugin the programs ask for, so it never downloads the real one."""
    plugin_dir = pulumi_home / "plugins" / f"resource-aws-v{plugin_version()}"
    plugin_dir.mkdir(parents=True, exist_ok=True)
    executable = plugin_dir / "pulumi-resource-aws"
    executable.write_text(
        "#!/bin/sh\n"
        "# The simulated AWS provider of the Stepladder integration suite (never real AWS).\n"
        f"export {ACCOUNT_DIR_VARIABLE}={shlex.quote(str(account_dir))}\n"
        f"export PYTHONPATH={shlex.quote(str(REPOSITORY))}\n"
        f'exec {shlex.quote(sys.executable)} -m tests.integration.aws_plugin "$@"\n'
    )
    executable.chmod(0o755)
    return executable
