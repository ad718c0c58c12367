"""Requesting, cancelling and describing operations: the one path all three callers share."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlmodel import Session

from db.models import Environment, Operation, OperationEvent, OperationKind, OperationStatus
from db.models.columns import utc_now
from programs.spec import HIGHEST_TIER
from service.access.audit import AuditEntry, audited
from service.access.domain import Actor
from service.access.roles import Role, in_scope
from service.costs.moves import PRICED_MOVES
from service.costs.prices import PriceBook
from service.costs.schemas import PlanCost
from service.environments.domain import require_environment
from service.environments.schemas import tier_problems
from service.errors import Conflict, InvalidInput, NotFound
from service.notifications.events import notify_approval_needed
from service.operations import repository
from service.operations.declarations import PlanOutdated
from service.operations.planning import plan_tiers
from service.operations.progress import close_operation
from service.operations.repository import RESOURCE_CHANGING
from service.operations.safety import MovePlan, check_data_safety, moves_down, plan_move
from service.operations.schemas import EventPublic, OperationPublic

# Puts the job that will run the environment's next operation in the queue, inside the
# caller's transaction, so an operation is never committed without its job (or vice versa).
Enqueue = Callable[[Session, Environment], int]

# Plans made without the lock, each checked under it; a busy environment rarely needs two.
PLAN_ATTEMPTS = 3


def request_operation(
    session: Session,
    enqueue: Enqueue,
    *,
    environment_name: str,
    kind: OperationKind,
    engine: str,
    target_tier: int | None = None,
    requested_by: Actor,
    confirm: str | None = None,
    confirmed_loss: list[dict[str, Any]] | None = None,
    approval_hours: float = 24,
    audited_as: str | None = None,
    prices: PriceBook | None = None,
) -> Operation:
    """Validate and queue an operation (or hold it for approval); audited as
    `environment.<kind>` unless the caller names the change it carries out (a schedule).
    With `prices`, a move's plan is always made and kept, carrying its monthly estimate."""
    action = audited_as or f"environment.{kind.value}"
    with audited(session, requested_by, action, environment_name) as entry:
        operation = _request(
            session, enqueue, environment_name, kind, engine, target_tier, confirm,
            confirmed_loss, requested_by, approval_hours, prices,
        )  # fmt: skip
        _describe_request(entry, operation)
        return operation


def _describe_request(entry: AuditEntry, operation: Operation) -> None:
    entry.detail = f"operation {operation.id}: tier {operation.from_tier} -> {operation.to_tier}"
    if operation.status == OperationStatus.awaiting_approval:
        entry.detail += ", awaiting approval"
    if operation.data_loss:
        entry.detail += ", data loss confirmed"


def needs_approval(environment: Environment, kind: OperationKind, actor: Actor) -> bool:
    """An operator's move of a protected environment waits for another person's approval."""
    return environment.protected and actor.role != Role.admin and kind in RESOURCE_CHANGING


def _request(
    session: Session,
    enqueue: Enqueue,
    environment_name: str,
    kind: OperationKind,
    engine: str,
    target_tier: int | None,
    confirm: str | None,
    confirmed_loss: list[dict[str, Any]] | None,
    requested_by: Actor,
    approval_hours: float,
    prices: PriceBook | None,
) -> Operation:
    for _attempt in range(PLAN_ATTEMPTS):
        # Plan first, holding no lock: declaring the programs can take seconds when uncached.
        environment = require_environment(session, environment_name)
        _plan_request(session, environment, kind, engine, target_tier, requested_by, prices)
        try:
            # A savepoint, so that a plan found outdated under the lock releases the lock.
            with session.begin_nested():
                return _request_locked(
                    session, enqueue, environment_name, kind, engine, target_tier, confirm,
                    confirmed_loss, requested_by, approval_hours, prices,
                )  # fmt: skip
        except PlanOutdated:
            continue  # the environment moved on meanwhile: plan its new state
    raise PlanOutdated()


def _plan_request(
    session: Session,
    environment: Environment,
    kind: OperationKind,
    engine: str,
    target_tier: int | None,
    requested_by: Actor,
    prices: PriceBook | None,
    *,
    cached_only: bool = False,
) -> tuple[int | None, int | None, MovePlan | None]:
    """(from_tier, to_tier, plan): the plan when the move needs one (approval or a step
    down) or has a price to show. Raises what refuses the move."""
    assert environment.id is not None
    if environment.engine != engine and environment.applied_tier is not None:
        raise Conflict(
            f"'{environment.name}' is deployed by the {environment.engine} engine, but this "
            f"service runs the {engine} engine; its state belongs to the other engine."
        )
    projected = repository.projected_tier(session, environment.id, environment.applied_tier)
    from_tier, to_tier = plan_tiers(kind, projected, target_tier)
    if to_tier == HIGHEST_TIER and not environment.secondary_region:
        raise Conflict(
            "Tier 7 runs in two regions: set secondary_region on the definition first.",
            field="secondary_region",
        )
    if to_tier is not None and (problems := tier_problems(environment, to_tier)):
        raise InvalidInput.from_fields(problems)
    plan = None
    guarded = needs_approval(environment, kind, requested_by) or moves_down(
        kind, from_tier, to_tier
    )
    if guarded or (prices is not None and kind in PRICED_MOVES):
        try:
            plan = plan_move(
                session, environment, kind, from_tier, to_tier,
                cached_only=cached_only, prices=prices,
            )  # fmt: skip
        except (Conflict, PlanOutdated):
            if guarded:
                raise
            # Only its price was wanted: a program that cannot be declared fails in the run,
            # as it always has, and the operation carries no estimate.
    return from_tier, to_tier, plan


def _request_locked(
    session: Session,
    enqueue: Enqueue,
    environment_name: str,
    kind: OperationKind,
    engine: str,
    target_tier: int | None,
    confirm: str | None,
    confirmed_loss: list[dict[str, Any]] | None,
    requested_by: Actor,
    approval_hours: float,
    prices: PriceBook | None,
) -> Operation:
    """Under the environment's lock, plans again from cached declarations only (PlanOutdated
    when the environment needs one the unlocked plan did not make) and records the operation."""
    environment = require_environment(session, environment_name, for_update=True)
    assert environment.id is not None
    from_tier, to_tier, plan = _plan_request(
        session, environment, kind, engine, target_tier, requested_by, prices, cached_only=True
    )
    if environment.engine != engine:
        environment.engine = engine  # nothing deployed: the configured engine takes it over
        session.add(environment)
    requested_at = utc_now()
    approval = needs_approval(environment, kind, requested_by)
    # A plan made only for its price (a preview, a step up) confirms nothing and refuses nothing.
    guarded = approval or moves_down(kind, from_tier, to_tier)
    data_loss = plan.data_loss if plan and guarded else []
    check_data_safety(environment, data_loss, confirm, confirmed_loss)

    operation = Operation(
        created_at=requested_at,
        data_loss=data_loss,
        confirmed=bool(data_loss),
        requested_by=requested_by.name,
        channel=requested_by.channel,
        definition_version=environment.version if approval else None,
        # Kept whenever made: what an approver decides on, and the estimate the request showed.
        plan=plan.to_dict() if plan else None,
        environment_id=environment.id,
        environment_name=environment.name,
        kind=kind,
        engine=engine,
        from_tier=from_tier,
        to_tier=to_tier,
    )
    if approval:
        operation.status = OperationStatus.awaiting_approval
        operation.approval_expires_at = requested_at + timedelta(hours=approval_hours)
    session.add(operation)
    session.flush()
    if approval:
        notify_approval_needed(session, operation)
    else:
        # Awaiting approval means no job yet: approving it is what queues it.
        operation.job_id = enqueue(session, environment)
        session.add(operation)
    return operation


def require_operation(
    session: Session,
    operation_id: int,
    *,
    for_update: bool = False,
    visible_to: Actor | None = None,
) -> Operation:
    """The operation; one outside `visible_to`'s scope is answered like an unknown one, so a
    scoped token cannot learn which ids exist elsewhere."""
    operation = repository.get_operation(session, operation_id, for_update=for_update)
    if operation is None or (
        visible_to is not None and not in_scope(visible_to.scope, operation.environment_name)
    ):
        raise NotFound(f"There is no operation {operation_id}.")
    return operation


def cancel_operation(session: Session, operation_id: int, actor: Actor) -> Operation:
    with audited(session, actor, "operation.cancel") as entry:
        entry.detail = f"operation {operation_id}"
        operation = require_operation(session, operation_id, for_update=True)
        entry.environment = operation.environment_name
        return _cancel(session, operation)


def _cancel(session: Session, operation: Operation) -> Operation:
    operation_id = operation.id
    assert operation.id is not None
    if operation.status in (OperationStatus.queued, OperationStatus.awaiting_approval):
        # Locked and not running: the worker claims only queued operations, so it never starts.
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
        drift=operation.drift,
        error=operation.error,
        error_code=operation.error_code,
        cancel_requested=operation.cancel_requested_at is not None,
        requested_by=operation.requested_by,
        channel=operation.channel,
        plan=operation.plan,
        cost=PlanCost.model_validate(operation.plan["cost"])
        if operation.plan and operation.plan.get("cost")
        else None,
        approval_expires_at=operation.approval_expires_at,
        decided_by=operation.decided_by,
        decision_comment=operation.decision_comment,
        decided_at=operation.decided_at,
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
