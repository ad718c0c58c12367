"""What an operation's engine process is asked to run: the steps, from the operation and the
environment's definition as they are when the operation is claimed, and the engine's options."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from db.engine import session_scope
from db.models import Environment, Operation, OperationKind, OperationStatus, Resource
from programs import EnvironmentSpec
from service.drift import simulated_cloud
from service.engines.model import OutOfBandChange, ResourceState, StepAction, StepRequest
from service.engines.protocol import (
    EngineOptions,
    OperationRequest,
    PulumiOptions,
    SimulatorOptions,
)
from service.engines.pulumi_backend import state_backend
from service.environments import repository as environments
from service.jobs.runtime import WorkerRuntime, this_process
from service.operations import progress, repository
from service.operations.planning import build_spec, step_tiers
from service.operations.repository import RESOURCE_CHANGING


@dataclass
class PreparedOperation:
    operation_id: int
    environment_id: int
    environment_name: str
    engine: str
    request: OperationRequest


def claim_and_prepare(
    runtime: WorkerRuntime, environment_id: int, job_id: int
) -> PreparedOperation | None:
    """Claim the environment's next queued operation and build its request; None when there
    is none, or when it must not run (then it is closed, saying why)."""
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
                request=build_request(runtime, session, operation, environment),
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
    if operation.kind in RESOURCE_CHANGING and environment.applied_tier != operation.from_tier:
        return (
            "tier_changed",
            f"This operation was planned from tier {operation.from_tier}, but the environment "
            f"is at tier {environment.applied_tier} (an earlier operation did not complete); "
            "request it again.",
        )
    return None


def build_request(
    runtime: WorkerRuntime, session: Session, operation: Operation, environment: Environment
) -> OperationRequest:
    assert environment.id is not None
    stored = environments.list_resources(session, environment.id)
    allowed = (
        frozenset(item["urn"] for item in operation.data_loss)
        if operation.confirmed
        else frozenset()
    )

    def step(
        action: StepAction,
        spec_tier: int,
        to_tier: int | None,
        *,
        refresh: bool = False,
        lifts_protection: bool = False,
    ) -> StepRequest:
        spec: EnvironmentSpec = build_spec(
            environment,
            spec_tier,
            requested_at=operation.created_at,
            aws_endpoint_url=runtime.settings.aws_endpoint_url,
            deployed=stored,
        )
        return StepRequest(
            action=action,
            spec=spec,
            to_tier=to_tier,
            refresh=refresh,
            allowed_data_loss=allowed,
            lifts_protection=lifts_protection,
        )

    applied = environment.applied_tier
    kind = OperationKind(operation.kind)
    if kind in (OperationKind.apply, OperationKind.reconcile):
        assert applied is not None
        # A reconcile reads the cloud first, so the up undoes its drift.
        steps = [step("up", applied, applied, refresh=kind == OperationKind.reconcile)]
    elif kind in (OperationKind.promote, OperationKind.demote, OperationKind.set_tier):
        assert operation.to_tier is not None
        steps = [step("up", tier, tier) for tier in step_tiers(applied, operation.to_tier)]
    elif kind == OperationKind.preview:
        assert operation.to_tier is not None
        steps = [step("preview", operation.to_tier, operation.to_tier)]
    elif kind == OperationKind.drift_check:
        assert applied is not None
        steps = [step("drift_check", applied, applied)]
    elif kind == OperationKind.destroy:
        assert applied is not None
        steps = [step("destroy", applied, None)]
    else:
        assert applied is not None
        steps = [step("refresh", applied, applied)]

    if (
        kind in RESOURCE_CHANGING
        # applying the definition lifts protection itself
        and kind not in (OperationKind.apply, OperationKind.reconcile)
        and applied is not None
        and not environment.protected
        and any(resource.protect for resource in stored)
    ):
        # Protection was lifted in the definition: apply that first, as its own step, since
        # neither Pulumi nor AWS deletes a resource in the same update that unprotects it.
        steps.insert(0, step("up", applied, applied, lifts_protection=True))
    return OperationRequest(
        options=engine_options(runtime, session, operation.engine, environment.id),
        steps=steps,
        state=[_resource_state(resource) for resource in stored],
    )


def _resource_state(resource: Resource) -> ResourceState:
    """A stored resource as engines take it; the table calls the cloud's id `cloud_id`."""
    return ResourceState.model_validate(
        {**resource.model_dump(exclude={"cloud_id"}), "id": resource.cloud_id}
    )


def engine_options(
    runtime: WorkerRuntime, session: Session, engine: str, environment_id: int
) -> EngineOptions:
    settings = runtime.settings
    grace = settings.cancel_grace_for(engine)
    if engine == "simulator":
        return SimulatorOptions(
            seconds_per_resource=settings.simulator_seconds_per_resource,
            cancel_grace_seconds=grace,
            out_of_band=[
                OutOfBandChange.model_validate(item)
                for item in simulated_cloud.out_of_band(session, environment_id)
            ],
        )
    backend = state_backend(settings, runtime.db_engine.url.render_as_string(hide_password=False))
    # Travels on the child's stdin only; never logged or stored.
    return PulumiOptions(
        backend_url=backend.url,
        secrets_provider=settings.pulumi_secrets_provider,
        passphrase=settings.pulumi_passphrase() or "",
        backend_password=backend.password or None,
        legacy_workspaces_dir=settings.resolved_data_dir() / "workspaces",
        history_kept=settings.pulumi_history_kept,
        cancel_grace_seconds=grace,
    )
