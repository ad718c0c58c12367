"""Running one operation's engine process: start it, record what it reports, interrupt it when
the operation is cancelled or the worker stops, and close the operation with its outcome."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from db.engine import session_scope
from db.models import OperationStatus
from service.engines.engine_process import EngineProcess
from service.engines.model import simulated_label
from service.engines.protocol import (
    ChildMessage,
    EventMessage,
    OperationFailure,
    OperationResult,
    StepDone,
)
from service.jobs.event_writer import EventWriter
from service.jobs.operation_request import PreparedOperation, claim_and_prepare
from service.jobs.runtime import WorkerRuntime
from service.observability.logs import operation_context
from service.observability.references import internal_error_message, new_reference
from service.operations import progress, repository
from service.operations.interruption import close_interrupted

logger = logging.getLogger(__name__)

CANCEL_POLL_SECONDS = 0.5


@dataclass
class Outcome:
    status: OperationStatus = OperationStatus.failed
    changes: dict[str, int] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    # Only previews report it: for other operations it was settled when they were accepted.
    data_loss: list[dict[str, Any]] | None = None
    # Only drift checks report it.
    drift: list[dict[str, Any]] | None = None
    error: str | None = None
    error_code: str | None = None
    completed_steps: int = 0


async def run_next_operation(runtime: WorkerRuntime, environment_id: int, job_id: int) -> None:
    prepared = await asyncio.to_thread(claim_and_prepare, runtime, environment_id, job_id)
    if prepared is not None:
        with operation_context(prepared.operation_id, prepared.environment_name):
            await _supervise(runtime, prepared)


async def _supervise(runtime: WorkerRuntime, prepared: PreparedOperation) -> None:
    db = runtime.db_engine
    operation_id = prepared.operation_id
    label = simulated_label(prepared.engine == "simulator")

    events = EventWriter(db, operation_id)
    events.add(
        {
            "type": "operation_started",
            "message": f"{label}started with the {prepared.engine} engine",
            # What recovery compares the completed steps with, should this worker die.
            "steps": [
                {"action": step.action, "tier": step.to_tier} for step in prepared.request.steps
            ],
        }
    )
    outcome = Outcome()
    process = await EngineProcess.start(prepared.request)
    watcher = asyncio.create_task(_interrupt_when_cancelled(runtime, operation_id, process))
    try:
        async for message in process.messages():
            await _handle_message(runtime, prepared, message, outcome, events)
        code = await process.wait()
    except asyncio.CancelledError:
        # The worker is shutting down: stop the engine as cleanly as it allows, then say so.
        await asyncio.shield(_stop_for_shutdown(runtime, prepared, process, events))
        raise
    finally:
        watcher.cancel()
        await process.kill()

    if process.interrupted:
        outcome.status = OperationStatus.cancelled
        outcome.error = "Cancelled on request while running; steps that completed are kept."
        outcome.error_code = "cancelled"
    elif outcome.error is None and outcome.status != OperationStatus.succeeded:
        # Its log may hold anything (paths, a cloud's answer): kept for operators, not shown.
        reference = new_reference()
        logger.error(
            "operation %s: engine process ended unexpectedly (exit code %s, reference %s); "
            "last lines of its log:\n%s",
            operation_id,
            code,
            reference,
            "\n".join(process.stderr_tail),
        )
        outcome.error = (
            f"The engine process ended unexpectedly (exit code {code}). "
            + internal_error_message(reference)
        )
        outcome.error_code = "engine_crashed"
    await events.flush()  # before the outcome's event, which takes the next seq
    await asyncio.to_thread(
        progress.finish_operation,
        db,
        operation_id,
        outcome.status,
        changes=outcome.changes,
        outputs=outcome.outputs,
        data_loss=outcome.data_loss,
        drift=outcome.drift,
        error=outcome.error,
        error_code=outcome.error_code,
    )


async def _handle_message(
    runtime: WorkerRuntime,
    prepared: PreparedOperation,
    message: ChildMessage,
    outcome: Outcome,
    events: EventWriter,
) -> None:
    if isinstance(message, EventMessage):
        events.add({**message.event.model_dump(), "engine": prepared.engine})
    elif isinstance(message, StepDone):
        if message.action == "preview":
            outcome.data_loss = [
                {"type": change.type, "name": change.name, "urn": change.urn}
                for change in message.plan
                if change.deletes_data
            ]
        if message.drift is not None:
            outcome.drift = [item.model_dump(mode="json") for item in message.drift]
        outcome.completed_steps += 1
        await events.flush()  # the step's events before its step_completed
        await asyncio.to_thread(
            progress.complete_step,
            runtime.db_engine,
            prepared.operation_id,
            prepared.environment_id,
            message,
            outcome.data_loss,
            outcome.completed_steps,
            len(prepared.request.steps),
        )
    elif isinstance(message, OperationResult):
        outcome.status = OperationStatus.succeeded
        outcome.changes = message.changes
        outcome.outputs = message.outputs
    elif isinstance(message, OperationFailure):
        if message.reference is not None:
            logger.error(
                "operation %s: internal error in the engine process (reference %s):\n%s",
                prepared.operation_id,
                message.reference,
                message.log,
            )
        outcome.status = OperationStatus.failed
        outcome.error = message.message
        outcome.error_code = message.code


async def _interrupt_when_cancelled(
    runtime: WorkerRuntime, operation_id: int, process: EngineProcess
) -> None:
    while True:
        await asyncio.sleep(CANCEL_POLL_SECONDS)
        requested = await asyncio.to_thread(_cancel_requested, runtime, operation_id)
        if requested:
            logger.info("operation %s: cancel requested, interrupting engine", operation_id)
            await process.interrupt(runtime.settings.cancel_grace_for(process.engine))
            return


def _cancel_requested(runtime: WorkerRuntime, operation_id: int) -> bool:
    with session_scope(runtime.db_engine) as session:
        return repository.cancel_requested(session, operation_id)


async def _stop_for_shutdown(
    runtime: WorkerRuntime, prepared: PreparedOperation, process: EngineProcess, events: EventWriter
) -> None:
    try:
        await process.interrupt(runtime.settings.cancel_grace_for(prepared.engine))
    except OSError:
        logger.exception("operation %s: could not interrupt its engine", prepared.operation_id)
    try:
        await events.flush()  # before the closing event, which takes the next seq
    except Exception:
        logger.exception("operation %s: its last events were not recorded", prepared.operation_id)
    await asyncio.to_thread(
        close_interrupted,
        runtime.db_engine,
        [prepared.operation_id],
        "Interrupted: the worker shut down while this ran; steps that completed are kept.",
    )
