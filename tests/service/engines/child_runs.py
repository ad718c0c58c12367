"""Running an operation's child process as the worker would, for tests of what it answers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from service.engines.protocol import CHILD_MESSAGE, OperationFailure

REPOSITORY = Path(__file__).resolve().parents[3]


def failed_child(arguments: list[str], request: str) -> tuple[OperationFailure, str]:
    """Run `python <arguments>` with `request` on stdin; expects it to fail, and returns its
    last message (the failure) and what it logged on stderr."""
    done = subprocess.run(
        [sys.executable, *arguments],
        input=request,
        capture_output=True,
        text=True,
        cwd=REPOSITORY,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    failure = CHILD_MESSAGE.validate_json(done.stdout.strip().splitlines()[-1])
    assert isinstance(failure, OperationFailure), failure
    return failure, done.stderr
