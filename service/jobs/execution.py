"""Running one operation: plan its steps, run them in a child process, record what happened."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from db.engine import session_scope
from db.models import Environment, Operation, OperationKind, OperationStatus
from programs import EnvironmentSpec
from service.drift import simulated_cloud
from service.engines.protocol import OperationRequest
from service.engines.pulumi_backend import state_backend
from service.engines.runner import EngineProcess
from service.environments import repository as environments
from service.jobs.event_writer import EventWriter
from service.jobs.runtime import WorkerRuntime, this_process
from service.observability.logs import operation_context
from service.operations import progress, repository
from service.operations.interruption import close_interrupted
from service.operations.planning import build_spec, step_tiers
from service.operations.repository import TIER_CHANGING

logger = logging.getLogger(__name__)

CANCEL_POLL_SECONDS = 0.5


@dataclass
class PreparedOperation:
    operation_id: int
    environment_id: int
    environment_name: str
    engine: str
    request: OperationRequest


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
    prepared = await asyncio.to_thread(_claim_and_prepare, runtime, environment_id, job_id)
    if prepared is not None:
        with operation_context(prepared.operation_id, prepared.environment_name):
            await _execute(runtime, prepared)


def _claim_and_prepare(
    runtime: WorkerRuntime, environment_id: int, job_id: int
) -> PreparedOperation | None:
    db = runtime.db_engine
    with session_scope(db) as session:
        operation = repository.claim_next_queued(
            session, environment_id, job_id, runner=this_process()
        )
        if operation is None:
            return None
        environment = environments.get_environment_by_id(session, environment_id)
        assert operation.id is not None and environment is not None
        refusal = _stale_plan(operation, environment)
        if refusal is None:
            return PreparedOperation(
                operation_id=operation.id,
                environment_id=environment_id,
                environment_name=environment.name,
                engine=operation.engine,
                request=_build_request(runtime, session, operation, environment),
            )
        operation_id = operation.id
    code, reason = refusal
    status = OperationStatus.rejected if code == "definition_changed" else OperationStatus.failed
    progress.finish_operation(db, operation_id, status, error=reason, error_code=code)
    return None


def _stale_plan(operation: Operation, environment: Environment) -> tuple[str, str] | None:
    """(code, reason) when the operation must not run: it would run blind, or not as approved."""
    if (
        operation.definition_version is not None
        and operation.definition_version != environment.version
    ):
        return (
            "definition_changed",
            "The definition changed after this operation's plan was approved; the approval is "
            "void. Ask again to get a plan of the current definition.",
        )
    if operation.kind in TIER_CHANGING and environment.applied_tier != operation.from_tier:
        return (
            "tier_changed",
            f"This operation was planned from tier {operation.from_tier}, but the environment "
            f"is at tier {environment.applied_tier} (an earlier operation did not complete); "
            "request it again.",
        )
    return None


def _build_request(
    runtime: WorkerRuntime, session: Session, operation: Operation, environment: Environment
) -> OperationRequest:
    assert environment.id is not None
    stored = environments.list_resources(session, environment.id)

    def spec(tier: int) -> EnvironmentSpec:
        return build_spec(
            environment,
            tier,
            requested_at=operation.created_at,
            aws_endpoint_url=runtime.settings.aws_endpoint_url,
            deployed=stored,
        )

    applied = environment.applied_tier
    kind = OperationKind(operation.kind)
    if kind in (OperationKind.apply, OperationKind.reconcile):
        assert applied is not None
        steps = [{"action": "up", "tier": applied, "spec": spec(applied).to_dict()}]
        if kind == OperationKind.reconcile:
            steps[0]["refresh"] = True  # read the cloud first, so the up undoes its drift
    elif kind in (OperationKind.promote, OperationKind.demote, OperationKind.set_tier):
        assert operation.to_tier is not None
        tiers = step_tiers(applied, operation.to_tier)
        steps = [{"action": "up", "tier": tier, "spec": spec(tier).to_dict()} for tier in tiers]
    elif kind == OperationKind.preview:
        assert operation.to_tier is not None
        steps = [
            {
                "action": "preview",
                "tier": operation.to_tier,
                "spec": spec(operation.to_tier).to_dict(),
            }
        ]
    elif kind == OperationKind.drift_check:
        assert applied is not None
        steps = [{"action": "drift_check", "tier": applied, "spec": spec(applied).to_dict()}]
    else:
        assert applied is not None
        action = "destroy" if kind == OperationKind.destroy else "refresh"
        tier = None if kind == OperationKind.destroy else applied
        steps = [{"action": action, "tier": tier, "spec": spec(applied).to_dict()}]

    if (
        kind in TIER_CHANGING
        # applying the definition lifts protection itself
        and kind not in (OperationKind.apply, OperationKind.reconcile)
        and applied is not None
        and not environment.protected
        and any(resource.protect for resource in stored)
    ):
        # Protection was lifted in the definition: apply that first, as its own step, since
        # neither Pulumi nor AWS deletes a resource in the same update that unprotects it.
        steps.insert(
            0, {"action": "up", "tier": applied, "spec": spec(applied).to_dict(), "lifts": True}
        )
    allowed = [item["urn"] for item in operation.data_loss] if operation.confirmed else []
    for step in steps:
        step["allowed_data_loss"] = allowed
    state = [
        {
            "urn": resource.urn,
            "type": resource.type,
            "name": resource.name,
            "parent": resource.parent,
            "custom": resource.custom,
            "id": resource.cloud_id,
            "inputs": resource.inputs,
            "outputs": resource.outputs,
            "protect": resource.protect,
        }
        for resource in stored
    ]
    options = engine_options(runtime, operation.engine)
    if operation.engine == "simulator":
        options["out_of_band"] = simulated_cloud.out_of_band(session, environment.id)
    return OperationRequest(
        engine=operation.engine, engine_options=options, steps=steps, state=state
    )


def engine_options(runtime: WorkerRuntime, engine: str) -> dict[str, Any]:
    settings = runtime.settings
    if engine == "simulator":
        return {
            "seconds_per_resource": settings.simulator_seconds_per_resource,
            "cancel_grace_seconds": settings.cancel_grace_for(engine),
        }
    backend = state_backend(settings, runtime.db_engine.url.render_as_string(hide_password=False))
    # Travels on the child's stdin only; never logged or stored.
    return {
        "legacy_workspaces_dir": str(settings.resolved_data_dir() / "workspaces"),
        "history_kept": settings.pulumi_history_kept,
        "backend_url": backend.url,
        "backend_password": backend.password or "",
        "secrets_provider": settings.pulumi_secrets_provider,
        "passphrase": settings.pulumi_passphrase() or "",
        "cancel_grace_seconds": settings.cancel_grace_for(engine),
    }


async def _execute(runtime: WorkerRuntime, prepared: PreparedOperation) -> None:
    db = runtime.db_engine
    operation_id = prepared.operation_id
    label = "[simulator] " if prepared.engine == "simulator" else ""

    events = EventWriter(db, operation_id)
    record = events.add

    record(
        {
            "type": "operation_started",
            "message": f"{label}started with the {prepared.engine} engine",
            # What recovery compares the completed steps with, should this worker die.
            "steps": [
                {"action": step["action"], "tier": step.get("tier")}
                for step in prepared.request.steps
            ],
        }
    )
    outcome = Outcome()
    process = await EngineProcess.start(prepared.request)
    watcher = asyncio.create_task(_interrupt_when_cancelled(runtime, operation_id, process))
    try:
        async for message in process.messages():
            await _handle_message(db, prepared, message, outcome, events)
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
        outcome.error = f"The engine process ended unexpectedly (exit code {code})."
        outcome.error_code = "engine_crashed"
        if process.stderr_tail:
            record(
                {
                    "type": "diagnostic",
                    "message": f"{label}last lines of the engine's log:\n"
                    + "\n".join(process.stderr_tail),
                    "severity": "error",
                }
            )
    await events.flush()
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
    db: Any,
    prepared: PreparedOperation,
    message: dict[str, Any],
    outcome: Outcome,
    events: EventWriter,
) -> None:
    if "event" in message:
        events.add({**message["event"], "engine": prepared.engine})
    elif "step_done" in message:
        step = message["step_done"]
        if step["action"] == "preview":
            outcome.data_loss = [
                {"type": change["type"], "name": change["name"], "urn": change["urn"]}
                for change in step.get("plan", [])
                if change["stateful"] and change["op"] in ("delete", "replace")
            ]
        if step.get("drift") is not None:
            outcome.drift = step["drift"]
        outcome.completed_steps += 1
        await events.flush()  # the step's events before its step_completed
        await asyncio.to_thread(
            progress.complete_step,
            db,
            prepared.operation_id,
            prepared.environment_id,
            {**step, "data_loss": outcome.data_loss},
            outcome.completed_steps,
            len(prepared.request.steps),
        )
    elif "result" in message:
        outcome.status = OperationStatus.succeeded
        outcome.changes = message["result"].get("changes", {})
        outcome.outputs = message["result"].get("outputs", {})
    elif "error" in message:
        outcome.status = OperationStatus.failed
        outcome.error = str(message["error"].get("message", "the engine failed"))
        outcome.error_code = str(message["error"].get("code", "engine_failed"))


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
