"""The tasks the queue carries: "run this environment's next operation" (a nudge: the job
carries no operation), "send this webhook delivery", and the ticks deferred once a minute:
expiries, and drift checks on an interval."""

from __future__ import annotations

import asyncio

import procrastinate

from service.drift.interval import check_drift_when_due
from service.expiry.tick import tick_expiries
from service.jobs.engine_supervision import run_next_operation
from service.jobs.runtime import current_runtime
from service.notifications.delivery import deliver
from service.notifications.events import DELIVER_WEBHOOK

RUN_NEXT_OPERATION = "stepladder:run_next_operation"
TICK_EXPIRIES = "stepladder:tick_expiries"
CHECK_DRIFT = "stepladder:check_drift_when_due"


async def run_next_operation_task(context: procrastinate.JobContext, environment_id: int) -> None:
    # The job carries no operation id: whichever job holds the environment's lock runs the
    # oldest queued operation, so the order is the operations' order even if jobs reorder.
    assert context.job.id is not None
    await run_next_operation(current_runtime(), environment_id, context.job.id)


async def deliver_webhook_task(delivery_id: int) -> None:
    # Retries are deferred by the delivery itself, with its own backoff and attempt count.
    await deliver(current_runtime(), delivery_id)


async def tick_expiries_task(timestamp: int) -> None:
    # Deferred once a minute across all workers; the tick itself is exactly-once per expiry.
    runtime = current_runtime()
    await asyncio.to_thread(
        tick_expiries,
        runtime.db_engine,
        runtime.enqueue,
        runtime.settings.engine,
        runtime.clock.now(),
    )


async def check_drift_task(timestamp: int) -> None:
    # Deferred once a minute across all workers; each environment is checked once per interval.
    runtime = current_runtime()
    every = runtime.settings.drift_check_every()
    if every is None:
        return
    await asyncio.to_thread(
        check_drift_when_due,
        runtime.db_engine,
        runtime.enqueue,
        runtime.settings.engine,
        runtime.clock.now(),
        every,
    )


def register_tasks(app: procrastinate.App) -> None:
    """Each app gets its own task objects (a shared Blueprint binds them to one app only)."""
    app.task(name=RUN_NEXT_OPERATION, pass_context=True)(run_next_operation_task)
    app.task(name=DELIVER_WEBHOOK)(deliver_webhook_task)
    expiries = app.task(name=TICK_EXPIRIES, queueing_lock=TICK_EXPIRIES)(tick_expiries_task)
    app.periodic(cron="* * * * *", periodic_id="expiries")(expiries)
    drift = app.task(name=CHECK_DRIFT, queueing_lock=CHECK_DRIFT)(check_drift_task)
    app.periodic(cron="* * * * *", periodic_id="drift-checks")(drift)
