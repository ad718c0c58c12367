"""The messages between a starter (the worker, an API process) and the fork server, one JSON
document a line on the fork server's socket, each a model validated by its reader.

Starter -> fork server: `ForkRequest`, with the child's stdin, stdout and stderr attached.
Fork server -> starter: `ForkStarted` at once, then `ChildExited` when the child has ended.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

# What a forked child runs: an operation's engine process, or a declaration of the programs.
ForkTarget = Literal["child", "declare"]


class ForkRequest(BaseModel):
    target: ForkTarget
    environment: dict[str, str]
    cwd: str


class ForkStarted(BaseModel):
    pid: int


class ChildExited(BaseModel):
    # As `Popen.returncode` reports it: negative for a signal.
    exit: int
