"""Running a worker: in the `serve` process by default, or alone (`stepladder worker`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator

import procrastinate
from sqlalchemy import Engine

from service.clock import Clock
from service.config import Settings
from service.costs.prices import PriceBook, PriceFileInvalid, load_price_book
from service.engines.forking import use_fork_server
from service.jobs.housekeeping import keep_house_periodically
from service.jobs.queue import build_job_app, enqueue_operation
from service.jobs.runtime import WorkerRuntime, set_runtime
from service.jobs.stopping import stop_task
from service.schedules.firing import fire_due_schedules

logger = logging.getLogger(__name__)

# Time for running operations to finish after a stop request, before they are interrupted.
SHUTDOWN_GRACE_SECONDS = 5.0
# Housekeeping and the schedule tick hold nothing that needs finishing when they are stopped.
SIDE_TASK_STOP_SECONDS = 5.0


def worker_stop_seconds(settings: Settings) -> float:
    """How long a stopping worker may take: running operations get the grace, then their engines
    are interrupted and get theirs (the Pulumi CLI waits for the cloud calls in flight)."""
    return SHUTDOWN_GRACE_SECONDS + settings.cancel_grace_for(settings.engine) + 5.0


def _prices_for_schedules(runtime: WorkerRuntime) -> PriceBook | None:
    """The price book the firings' plans are priced with; without one (the operator's file
    became unreadable since the service started, which checked it) schedules still fire."""
    try:
        return load_price_book(runtime.settings.price_file)
    except PriceFileInvalid as error:
        logger.warning("schedules fire without estimates: %s", error)
        return None


async def tick_schedules(runtime: WorkerRuntime, interval_seconds: float) -> None:
    """Fire due schedules; any number of workers may tick, each occurrence fires once."""
    while True:
        try:
            await asyncio.to_thread(
                fire_due_schedules,
                runtime.db_engine,
                runtime.enqueue,
                runtime.settings.engine,
                runtime.clock.now(),
                _prices_for_schedules(runtime),
            )
        except Exception:
            logger.exception("schedule tick failed; retrying in %s s", interval_seconds)
        await asyncio.sleep(interval_seconds)


@contextlib.asynccontextmanager
async def open_job_app(job_app: procrastinate.App) -> AsyncIterator[None]:
    """The job app's connection pool, open for the block and closed after it, even when the
    worker is cancelled while the pool is still connecting.

    procrastinate's `open_async()` does not cover that case: the pool exists, but the block never
    starts, so nothing closes it. psycopg_pool's async pool then takes the cancellation of its
    own connection attempts for failed attempts and retries them for its `reconnect_timeout`
    (5 minutes), and the event loop that ran the worker cannot finish its shutdown until then.
    """
    try:
        await job_app.connector.open_async()
        raise_lost_cancellation()
    except BaseException:
        await job_app.connector.close_async()
        raise
    try:
        yield
    finally:
        await job_app.connector.close_async()


def raise_lost_cancellation() -> None:
    """Raise the cancellation this task was given and did not receive.

    psycopg_pool waits for its first connections with `asyncio.wait_for`, which on Python 3.11
    drops a cancellation that arrives as the connections become ready (python/cpython#86296):
    the task is marked as cancelling, nothing is raised, and the worker would start and run
    until the next cancellation, with the service's shutdown waiting on it.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


async def run_worker(
    settings: Settings,
    database_url: str,
    db_engine: Engine,
    *,
    install_signal_handlers: bool,
    clock: Clock | None = None,
) -> None:
    job_app = build_job_app(database_url)
    use_fork_server(settings.engine_fork_server)
    async with open_job_app(job_app):
        runtime = WorkerRuntime(
            settings=settings,
            db_engine=db_engine,
            job_app=job_app,
            enqueue=enqueue_operation,
            clock=clock or Clock(),
        )
        set_runtime(runtime)
        housekeeping = asyncio.create_task(
            keep_house_periodically(runtime, interval_seconds=settings.heartbeat_seconds)
        )
        ticker = asyncio.create_task(tick_schedules(runtime, settings.schedule_tick_seconds))
        try:
            await job_app.run_worker_async(
                name=f"stepladder@{socket.gethostname()}",
                concurrency=settings.worker_concurrency,
                # A job waiting on an environment's lock is not notified when the lock frees.
                fetch_job_polling_interval=settings.worker_poll_seconds,
                install_signal_handlers=install_signal_handlers,
                shutdown_graceful_timeout=SHUTDOWN_GRACE_SECONDS,
                update_heartbeat_interval=settings.heartbeat_seconds,
                stalled_worker_timeout=settings.stalled_worker_seconds,
            )
        finally:
            for side_task in (housekeeping, ticker):
                await stop_task(side_task, graceful_seconds=SIDE_TASK_STOP_SECONDS)
            set_runtime(None)
            logger.info("worker stopped")
