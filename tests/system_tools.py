"""Debian tools some tests need, which `.ci/run` installs: missing here, those tests are skipped;
missing in CI (STEPLADDER_SYSTEM_TOOLS_REQUIRED=1, set by `.ci/run`), they fail."""

from __future__ import annotations

import os
import shutil

import pytest

REQUIRED = os.environ.get("STEPLADDER_SYSTEM_TOOLS_REQUIRED") == "1"


def require_tool(name: str) -> str:
    """The path of the tool `name`, or the test is skipped (failed in CI) naming the package."""
    path = shutil.which(name)
    if path is None:
        message = f"`{name}` is not installed (Debian package `{name}`; .ci/run installs it)"
        if REQUIRED:
            pytest.fail(message)
        pytest.skip(message)
    return path
