"""The worker's housekeeping: finding operations whose worker died (kill -9, lost machine)
and closing them honestly, requeueing queued operations that lost their job, expiring
idempotency keys, approvals and failed-login counts, and removing the temporary folders of
processes killed before they could.

A dead worker stops sending heartbeats; procrastinate reports its jobs as stalled. Their
operations are closed from what was recorded (succeeded when every step had completed, else
failed/interrupted naming the steps that did), the jobs are finished so the environment's lock
frees, and the next queued operation can run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket

from procrastinate.jobs import Status

from db.embedded import process_exists
from db.engine import session_scope
from service.access import login_throttle, request_safety
from service.access.login_throttle import LoginPolicy
from service.engines.owned_temp import remove_orphaned_temp_dirs
from service.jobs.queue import (
    environment_lock,
    environments_with_unscheduled_queue,
    orphaned_running_operations,
)
from service.jobs.runtime import WorkerRuntime
from service.jobs.tasks import RUN_NEXT_OPERATION
from service.operations import approvals, repository
from service.operations.interruption import close_interrupted

logger = logging.getLogger(__name__)


async def close_interrupted_operations(runtime: WorkerRuntime) -> list[int]:
    """Close the running operations whose worker is gone, and finish their jobs so the
    environment's lock frees; returns the operations closed."""
    settings = runtime.settings
    manager = runtime.job_app.job_manager
    reason = (
        "Interrupted: the worker running this operation stopped responding "
        f"(no heartbeat for {settings.stalled_worker_seconds:.0f} s). Steps that completed are "
        "kept; the environment is usable again."
    )
    recovered: list[int] = []
    stalled = await manager.get_stalled_jobs(
        task_name=RUN_NEXT_OPERATION, seconds_since_heartbeat=settings.stalled_worker_seconds
    )
    for job in stalled:
        assert job.id is not None
        operation_ids = await asyncio.to_thread(_running_operations_of_job, runtime, job.id)
        recovered += await asyncio.to_thread(
            close_interrupted, runtime.db_engine, operation_ids, reason
        )
        await manager.finish_job_by_id_async(job.id, status=Status.FAILED, delete_job=False)
    for operation_id, job_id in await asyncio.to_thread(_runs_of_dead_processes_here, runtime):
        # Its process on this host is gone: no need to wait for its heartbeat to go stale.
        recovered += await asyncio.to_thread(
            close_interrupted,
            runtime.db_engine,
            [operation_id],
            "Interrupted: the worker process running this operation on this host is gone. "
            "Steps that completed are kept; the environment is usable again.",
        )
        if job_id is not None:
            with contextlib.suppress(Exception):  # already finished by another round
                await manager.finish_job_by_id_async(job_id, status=Status.FAILED, delete_job=False)
    orphans = await asyncio.to_thread(_orphaned_running_operations, runtime)
    recovered += await asyncio.to_thread(close_interrupted, runtime.db_engine, orphans, reason)
    await manager.prune_stalled_workers(settings.stalled_worker_seconds)
    for operation_id in recovered:
        logger.warning("operation %s closed: its worker stopped responding", operation_id)
    return recovered


async def requeue_operations_without_a_job(runtime: WorkerRuntime) -> None:
    """An environment with queued operations and no job to run them gets a job."""
    for environment_id, name in await asyncio.to_thread(_unscheduled, runtime):
        logger.warning("environment %s had queued operations and no job; queueing one", name)
        await runtime.job_app.configure_task(
            RUN_NEXT_OPERATION, lock=environment_lock(name)
        ).defer_async(environment_id=environment_id)


def expire_idempotency_keys_and_approvals(runtime: WorkerRuntime) -> None:
    request_safety.prune(runtime.db_engine)
    window = LoginPolicy.of(runtime.settings).window
    login_throttle.prune(runtime.db_engine, window, runtime.clock.now())
    with session_scope(runtime.db_engine) as session:
        approvals.expire_approvals(session)


async def keep_house(runtime: WorkerRuntime) -> None:
    """One round of the worker's housekeeping: what dead workers left, what expired, what
    lost its job."""
    await close_interrupted_operations(runtime)
    await asyncio.to_thread(expire_idempotency_keys_and_approvals, runtime)
    await requeue_operations_without_a_job(runtime)
    for folder in await asyncio.to_thread(remove_orphaned_temp_dirs):
        logger.info("removed %s: the process it belonged to has ended", folder)


async def keep_house_periodically(runtime: WorkerRuntime, interval_seconds: float) -> None:
    while True:
        try:
            await keep_house(runtime)
        except Exception:
            logger.exception("housekeeping round failed; retrying in %s s", interval_seconds)
        await asyncio.sleep(interval_seconds)


def _runs_of_dead_processes_here(runtime: WorkerRuntime) -> list[tuple[int, int | None]]:
    with session_scope(runtime.db_engine) as session:
        running = repository.running_on_host(session, socket.gethostname())
    return [
        (operation_id, job_id)
        for operation_id, job_id, runner in running
        if not process_exists(int(runner.rpartition(":")[2]))
    ]


def _unscheduled(runtime: WorkerRuntime) -> list[tuple[int, str]]:
    with session_scope(runtime.db_engine) as session:
        return environments_with_unscheduled_queue(session)


def _running_operations_of_job(runtime: WorkerRuntime, job_id: int) -> list[int]:
    with session_scope(runtime.db_engine) as session:
        return repository.running_operations_of_job(session, job_id)


def _orphaned_running_operations(runtime: WorkerRuntime) -> list[int]:
    with session_scope(runtime.db_engine) as session:
        return orphaned_running_operations(session)
