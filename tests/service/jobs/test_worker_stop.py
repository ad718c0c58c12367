"""A stopping worker ends, whenever it is stopped.

A test client's shutdown once waited for ever on the in-process worker: asked to stop at the
instant its job queue's connection pool became ready, the worker never received the
cancellation (Python 3.11's `asyncio.wait_for`, inside psycopg_pool, returned the pool's
readiness instead) and ran on.
"""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from psycopg_pool._acompat import AEvent

from service.jobs.queue import build_job_app
from service.jobs.stopping import stop_task
from service.jobs.worker import open_job_app


async def _cancel_as_the_pool_becomes_ready(database_url: str) -> tuple[bool, bool]:
    """Whether the worker's block started, and whether the worker ended, after a cancellation
    that arrives in the same turn of the loop as the pool's first connections."""
    job_app = build_job_app(database_url)
    block_started = asyncio.Event()
    set_event = AEvent.set

    def set_and_cancel(event: AEvent) -> None:
        set_event(event)
        pool = getattr(job_app.connector, "_async_pool", None)
        if pool is not None and event is pool._pool_full_event:
            worker.cancel()

    async def run() -> None:
        async with open_job_app(job_app):
            block_started.set()
            await asyncio.Event().wait()

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(AEvent, "set", set_and_cancel)
        worker = asyncio.create_task(run())
        await asyncio.wait({worker}, timeout=10)
    ended = worker.done()
    if not ended:  # the failure being tested: end it here, so the test fails instead of hanging
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker
    return block_started.is_set(), ended


def test_a_worker_stopped_as_its_job_pool_becomes_ready_ends_without_starting(
    database_url: str,
) -> None:
    started, ended = asyncio.run(_cancel_as_the_pool_becomes_ready(database_url))

    assert (started, ended) == (False, True)


async def _loses_its_first_cancellation(seen: list[str]) -> None:
    # As a `wait_for` whose future completed in the same turn drops the cancellation.
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.Event().wait()
    seen.append("carried on")
    await asyncio.Event().wait()


async def _stops_gracefully(seen: list[str]) -> None:
    try:
        await asyncio.Event().wait()
    except asyncio.CancelledError:
        await asyncio.sleep(0.2)  # finishing what its stop began, as a worker interrupts engines
        seen.append("finished its stop")
        raise


async def _stop(task_body: object, graceful_seconds: float) -> tuple[list[str], bool]:
    seen: list[str] = []
    task = asyncio.create_task(task_body(seen))  # type: ignore[operator]
    await asyncio.sleep(0)
    await stop_task(task, graceful_seconds=graceful_seconds)
    return seen, task.done()


def test_a_task_that_lost_its_cancellation_is_cancelled_again_until_it_ends() -> None:
    seen, ended = asyncio.run(_stop(_loses_its_first_cancellation, graceful_seconds=0.1))

    assert (seen, ended) == (["carried on"], True)


def test_a_task_stopping_gracefully_is_given_its_time() -> None:
    seen, ended = asyncio.run(_stop(_stops_gracefully, graceful_seconds=5))

    assert (seen, ended) == (["finished its stop"], True)
