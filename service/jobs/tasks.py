"""The tasks the queue carries: "run this environment's next operation" (a nudge: the job
carries no operation), and "send this webhook delivery"."""

from __future__ import annotations

import procrastinate

from service.jobs.engine_supervision import run_next_operation
from service.jobs.runtime import current_runtime
from service.notifications.delivery import deliver
from service.notifications.events import DELIVER_WEBHOOK

RUN_NEXT_OPERATION = "stepladder:run_next_operation"


async def run_next_operation_task(context: procrastinate.JobContext, environment_id: int) -> None:
    # The job carries no operation id: whichever job holds the environment's lock runs the
    # oldest queued operation, so the order is the operations' order even if jobs reorder.
    assert context.job.id is not None
    await run_next_operation(current_runtime(), environment_id, context.job.id)


async def deliver_webhook_task(delivery_id: int) -> None:
    # Retries are deferred by the delivery itself, with its own backoff and attempt count.
    await deliver(current_runtime(), delivery_id)


def register_tasks(app: procrastinate.App) -> None:
    """Each app gets its own task objects (a shared Blueprint binds them to one app only)."""
    app.task(name=RUN_NEXT_OPERATION, pass_context=True)(run_next_operation_task)
    app.task(name=DELIVER_WEBHOOK)(deliver_webhook_task)
