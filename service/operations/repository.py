"""Queries on operations and their events."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select, update

from db.models import Operation, OperationEvent, OperationKind, OperationStatus
from db.models.columns import utc_now
from db.models.operation import PENDING_STATUSES

# Kinds that change the environment's resources (and leave it at `to_tier`, the tier it was on
# for apply and reconcile): they plan from a tier, need approval on protected environments, and
# lift protection first when asked to.
RESOURCE_CHANGING = (
    OperationKind.promote,
    OperationKind.demote,
    OperationKind.set_tier,
    OperationKind.destroy,
    OperationKind.apply,
    OperationKind.reconcile,
)


def get_operation(
    session: Session, operation_id: int, *, for_update: bool = False
) -> Operation | None:
    return session.get(Operation, operation_id, with_for_update=for_update)


def list_operations_for(session: Session, environment_id: int, limit: int) -> Sequence[Operation]:
    return session.exec(
        select(Operation)
        .where(Operation.environment_id == environment_id)
        .order_by(col(Operation.id).desc())
        .limit(limit)
    ).all()


def last_pending_resource_change(session: Session, environment_id: int) -> Operation | None:
    """The newest pending operation (awaiting approval, queued or running) that will change the
    environment's resources."""
    return session.exec(
        select(Operation)
        .where(
            Operation.environment_id == environment_id,
            col(Operation.status).in_(PENDING_STATUSES),
            col(Operation.kind).in_(RESOURCE_CHANGING),
        )
        .order_by(col(Operation.id).desc())
        .limit(1)
    ).first()


def projected_tier(session: Session, environment_id: int, applied_tier: int | None) -> int | None:
    """The tier the environment will be at once everything queued before now has run."""
    pending = last_pending_resource_change(session, environment_id)
    return pending.to_tier if pending is not None else applied_tier


def latest_operations(session: Session, environment_ids: list[int]) -> dict[int, Operation]:
    """Each environment's most recent operation, whatever its status: one query."""
    rows = session.exec(
        select(Operation)
        .where(col(Operation.environment_id).in_(environment_ids))
        .order_by(col(Operation.environment_id), col(Operation.id).desc())
        .distinct(col(Operation.environment_id))
    ).all()
    return {row.environment_id: row for row in rows if row.environment_id is not None}


def claim_next_queued(
    session: Session, environment_id: int, job_id: int | None, runner: str | None = None
) -> Operation | None:
    """Mark the environment's oldest queued operation running and return it (None: nothing)."""
    operation = session.exec(
        select(Operation)
        .where(
            Operation.environment_id == environment_id,
            Operation.status == OperationStatus.queued,
        )
        .order_by(col(Operation.id))
        .limit(1)
        .with_for_update(skip_locked=True)
    ).first()
    if operation is None:
        return None
    operation.status = OperationStatus.running
    operation.started_at = utc_now()
    operation.job_id = job_id
    operation.runner = runner
    session.add(operation)
    return operation


def request_cancel_if_running(session: Session, operation_id: int) -> bool:
    result = session.exec(
        update(Operation)
        .where(col(Operation.id) == operation_id, col(Operation.status) == OperationStatus.running)
        .values(cancel_requested_at=func.coalesce(col(Operation.cancel_requested_at), utc_now()))
    )
    return bool(result.rowcount)


def cancel_requested(session: Session, operation_id: int) -> bool:
    requested_at: datetime | None = session.exec(
        select(Operation.cancel_requested_at).where(Operation.id == operation_id)
    ).first()
    return requested_at is not None


def running_operations_of_job(session: Session, job_id: int) -> list[int]:
    rows = session.exec(
        select(Operation.id).where(
            Operation.status == OperationStatus.running, Operation.job_id == job_id
        )
    ).all()
    return [row for row in rows if row is not None]


def running_on_host(session: Session, host: str) -> list[tuple[int, int | None, str]]:
    """(operation id, job id, runner) of the operations running in a process on `host`."""
    rows = session.exec(
        select(Operation.id, Operation.job_id, Operation.runner).where(
            Operation.status == OperationStatus.running,
            col(Operation.runner).startswith(f"{host}:"),
        )
    ).all()
    return [(row[0], row[1], row[2]) for row in rows if row[0] is not None and row[2]]


def list_events(
    session: Session, operation_id: int, after_seq: int = 0
) -> Sequence[OperationEvent]:
    return session.exec(
        select(OperationEvent)
        .where(OperationEvent.operation_id == operation_id, col(OperationEvent.seq) > after_seq)
        .order_by(col(OperationEvent.seq))
    ).all()


def next_event_seq(session: Session, operation_id: int) -> int:
    highest = session.exec(
        select(func.max(OperationEvent.seq)).where(OperationEvent.operation_id == operation_id)
    ).first()
    return (highest or 0) + 1


def has_pending_from(session: Session, environment_id: int, requested_by: str) -> bool:
    """Whether an operation asked by this requester (a schedule) has not started yet."""
    waiting = (OperationStatus.awaiting_approval, OperationStatus.queued)
    return (
        session.exec(
            select(Operation.id)
            .where(
                Operation.environment_id == environment_id,
                Operation.requested_by == requested_by,
                col(Operation.status).in_(waiting),
            )
            .limit(1)
        ).first()
        is not None
    )
