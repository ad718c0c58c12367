"""Keeping the in-process worker alive: when it stops (the database went away, a bug), it is
started again after a pause that doubles up to a limit, and /healthz says how it is doing."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

logger = logging.getLogger(__name__)

WorkerState = Literal["starting", "running", "reconnecting", "stopped"]


@dataclass
class WorkerHealth:
    state: WorkerState = "starting"
    restarts: int = 0


async def keep_worker_running(
    run_worker: Callable[[], Awaitable[None]],
    health: WorkerHealth,
    *,
    first_delay: float = 1.0,
    longest_delay: float = 30.0,
) -> None:
    """Run the worker until cancelled; after each stop, wait and run it again."""
    loop = asyncio.get_running_loop()
    delay = first_delay
    while True:
        health.state = "running"
        started = loop.time()
        try:
            await run_worker()
            logger.error("the worker stopped by itself; starting it again in %.0f s", delay)
        except asyncio.CancelledError:
            health.state = "stopped"
            raise
        except Exception:
            logger.exception("the worker failed; starting it again in %.0f s", delay)
        health.state = "reconnecting"
        health.restarts += 1
        if loop.time() - started > longest_delay:
            delay = first_delay  # it had been running a while: a new outage starts the pauses over
        await asyncio.sleep(delay)
        delay = min(delay * 2, longest_delay)


async def keep_database_running(revive: Callable[[], None], interval_seconds: float) -> None:
    """For a database this process runs itself (the embedded one): start it again when it
    dies, without waiting for anything else to notice."""
    while True:
        try:
            await asyncio.to_thread(revive)
        except Exception:
            logger.exception("the database is down and did not start again yet")
        await asyncio.sleep(interval_seconds)
