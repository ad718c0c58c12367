"""The tasks the queue carries. Each job is a nudge: "run this environment's next operation"."""

from __future__ import annotations

import procrastinate

from service.jobs.execution import run_next_operation
from service.jobs.runtime import current_runtime

RUN_NEXT_OPERATION = "stepladder:run_next_operation"


async def run_next_operation_task(context: procrastinate.JobContext, environment_id: int) -> None:
    # The job carries no operation id: whichever job holds the environment's lock runs the
    # oldest queued operation, so the order is the operations' order even if jobs reorder.
    assert context.job.id is not None
    await run_next_operation(current_runtime(), environment_id, context.job.id)


def register_tasks(app: procrastinate.App) -> None:
    """Each app gets its own task objects (a shared Blueprint binds them to one app only)."""
    app.task(name=RUN_NEXT_OPERATION, pass_context=True)(run_next_operation_task)
