"""Stopping a background task for good, within a deadline.

asyncio delivers a cancellation once, and on Python 3.11 it can be lost: `asyncio.wait_for`
returns the result of a future that completed in the same turn of the loop as the cancellation
(fixed in 3.12, python/cpython#86296). psycopg_pool waits for connections that way, and
procrastinate's worker waits on psycopg_pool, so a worker cancelled at that instant carries on
as if nothing had been asked, and a shutdown that awaits it waits for ever.

So a stop cancels, waits while the task shuts down gracefully, and cancels again while it still
runs; past the deadline it says what it waited for and lets the shutdown go on.
"""

from __future__ import annotations

import asyncio
import io
import logging
from typing import Any

logger = logging.getLogger(__name__)

# How often a task that outlived its graceful stop is cancelled again.
RECANCEL_SECONDS = 1.0
# After the graceful time: how long cancelling again may take before the stop gives up.
RECANCEL_LIMIT_SECONDS = 30.0


async def stop_task(task: asyncio.Task[Any], *, graceful_seconds: float) -> None:
    """Cancel `task` and wait until it has ended. It has `graceful_seconds` to finish what its
    cancellation starts (a worker interrupts its engines); a task still running after that is
    cancelled again every second, for at most `RECANCEL_LIMIT_SECONDS` more."""
    loop = asyncio.get_running_loop()
    task.cancel()
    await asyncio.wait({task}, timeout=graceful_seconds)
    give_up = loop.time() + RECANCEL_LIMIT_SECONDS
    while not task.done():
        if loop.time() >= give_up:
            logger.error(
                "%s was still running %.0f s after it was asked to stop; leaving it, "
                "waiting in:\n%s",
                task.get_name(),
                graceful_seconds + RECANCEL_LIMIT_SECONDS,
                _stack(task),
            )
            return
        logger.warning("%s outlived its stop; cancelling it again", task.get_name())
        task.cancel()
        await asyncio.wait({task}, timeout=RECANCEL_SECONDS)
    if not task.cancelled() and (error := task.exception()) is not None:
        logger.error("%s failed as it stopped", task.get_name(), exc_info=error)


def _stack(task: asyncio.Task[Any]) -> str:
    out = io.StringIO()
    task.print_stack(file=out)
    return out.getvalue()
