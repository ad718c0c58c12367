"""What a worker's tasks need at hand: settings, the database and the job app.

procrastinate calls tasks with their arguments only, so the worker registers its runtime here
when it starts and the tasks look it up.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass

import procrastinate
from sqlalchemy import Engine

from service.clock import Clock
from service.config import Settings
from service.operations.domain import Enqueue


@dataclass
class WorkerRuntime:
    settings: Settings
    db_engine: Engine
    job_app: procrastinate.App
    # Defers on a caller's own connection (schedules request operations like the API does).
    enqueue: Enqueue
    # What schedules count as "now" when the worker ticks.
    clock: Clock


_current: WorkerRuntime | None = None


def set_runtime(runtime: WorkerRuntime | None) -> None:
    global _current
    _current = runtime


def current_runtime() -> WorkerRuntime:
    if _current is None:
        raise RuntimeError("no worker runtime: tasks run only inside `stepladder worker/serve`")
    return _current


def this_process() -> str:
    """The worker process as operations record who runs them: "host:pid"."""
    return f"{socket.gethostname()}:{os.getpid()}"
