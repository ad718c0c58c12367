"""Requesting, cancelling and describing operations: the one path all three callers share."""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session

from db.models import Environment, Operation, OperationEvent, OperationKind, OperationStatus
from db.models.columns import utc_now
from programs.spec import HIGHEST_TIER
from service.environments.domain import require_environment
from service.errors import Conflict, NotFound
from service.operations import repository
from service.operations.planning import plan_tiers
from service.operations.progress import close_operation
from service.operations.safety import check_data_safety, predict_data_loss
from service.operations.schemas import EventPublic, OperationPublic

# Puts the job that will run the environment's next operation in the queue, inside the
# caller's transaction, so an operation is never committed without its job (or vice versa).
Enqueue = Callable[[Session, Environment], int]


def request_operation(
    session: Session,
    enqueue: Enqueue,
    *,
    environment_name: str,
    kind: OperationKind,
    engine: str,
    target_tier: int | None = None,
    confirm: str | None = None,
) -> Operation:
    environment = require_environment(session, environment_name, for_update=True)
    assert environment.id is not None
    if environment.engine != engine and environment.applied_tier is not None:
        raise Conflict(
            f"'{environment.name}' is deployed by the {environment.engine} engine, but this "
            f"service runs the {engine} engine; its state belongs to the other engine."
        )
    if environment.engine != engine:
        environment.engine = engine  # nothing deployed: the configured engine takes it over
        session.add(environment)

    pending = repository.last_pending_tier_change(session, environment.id)
    projected = pending.to_tier if pending is not None else environment.applied_tier
    from_tier, to_tier = plan_tiers(kind, projected, target_tier)
    if to_tier == HIGHEST_TIER and not environment.secondary_region:
        raise Conflict(
            "Tier 7 runs in two regions: set secondary_region on the definition first.",
            field="secondary_region",
        )
    requested_at = utc_now()
    data_loss = predict_data_loss(environment, kind, from_tier, to_tier, requested_at=requested_at)
    check_data_safety(environment, data_loss, confirm)

    operation = Operation(
        created_at=requested_at,
        data_loss=data_loss,
        confirmed=bool(data_loss),
        environment_id=environment.id,
        environment_name=environment.name,
        kind=kind,
        engine=engine,
        from_tier=from_tier,
        to_tier=to_tier,
    )
    session.add(operation)
    session.flush()
    operation.job_id = enqueue(session, environment)
    session.add(operation)
    return operation


def require_operation(
    session: Session, operation_id: int, *, for_update: bool = False
) -> Operation:
    operation = repository.get_operation(session, operation_id, for_update=for_update)
    if operation is None:
        raise NotFound(f"There is no operation {operation_id}.")
    return operation


def cancel_operation(session: Session, operation_id: int) -> Operation:
    operation = require_operation(session, operation_id, for_update=True)
    assert operation.id is not None
    if operation.status == OperationStatus.queued:
        # Locked and still queued: the worker claims only queued operations, so it never starts.
        close_operation(
            session,
            operation.id,
            OperationStatus.cancelled,
            error="Cancelled before it started.",
            error_code="cancelled",
        )
    elif repository.request_cancel_if_running(session, operation.id):
        pass  # the worker sees the request and interrupts the engine
    else:
        raise Conflict(f"Operation {operation_id} has already finished ({operation.status}).")
    session.refresh(operation)
    return operation


def describe_operation(operation: Operation) -> OperationPublic:
    assert operation.id is not None
    return OperationPublic(
        id=operation.id,
        environment=operation.environment_name,
        kind=operation.kind,
        status=operation.status,
        engine=operation.engine,
        simulated=operation.engine == "simulator",
        from_tier=operation.from_tier,
        to_tier=operation.to_tier,
        changes=operation.changes,
        destructive=bool(operation.data_loss),
        data_loss=operation.data_loss,
        confirmed=operation.confirmed,
        outputs=operation.outputs,
        error=operation.error,
        error_code=operation.error_code,
        cancel_requested=operation.cancel_requested_at is not None,
        created_at=operation.created_at,
        started_at=operation.started_at,
        finished_at=operation.finished_at,
    )


def describe_event(event: OperationEvent) -> EventPublic:
    return EventPublic(
        seq=event.seq, at=event.at, type=event.type, message=event.message, data=event.data
    )


def is_finished(operation: Operation) -> bool:
    return OperationStatus(operation.status).finished
