"""Approvals for protected environments: an admin other than the requester decides.

An approved operation runs exactly the plan that was approved: if the definition changed in
between (before the decision, or before the worker picks it up), the approval is void and the
operation ends `rejected` with that reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, col, or_, select

from db.models import ApiToken, Operation, OperationStatus
from db.models.columns import utc_now
from service.access.audit import audited
from service.access.domain import Actor, Forbidden
from service.access.roles import Action, Role, in_scope, refusal
from service.environments import repository as environments
from service.errors import Conflict
from service.operations.domain import Enqueue, require_operation
from service.operations.progress import close_operation


def expire_approvals(session: Session) -> list[int]:
    waiting = session.exec(
        select(Operation)
        .where(
            Operation.status == OperationStatus.awaiting_approval,
            col(Operation.approval_expires_at) <= utc_now(),
        )
        .with_for_update(skip_locked=True)
    ).all()
    for operation in waiting:
        assert operation.id is not None
        close_operation(
            session,
            operation.id,
            OperationStatus.rejected,
            error="No one approved it in time; ask again if it is still wanted.",
            error_code="approval_expired",
        )
    return [operation.id for operation in waiting if operation.id is not None]


def list_awaiting(session: Session) -> Sequence[Operation]:
    expire_approvals(session)
    return session.exec(
        select(Operation)
        .where(Operation.status == OperationStatus.awaiting_approval)
        .order_by(col(Operation.id))
    ).all()


def list_awaiting_for(session: Session, actor: Actor) -> list[Operation]:
    """What `actor` may decide on: waiting operations within its scope."""
    return [
        operation
        for operation in list_awaiting(session)
        if in_scope(actor.scope, operation.environment_name)
    ]


def count_awaiting_for(session: Session, actor: Actor, now: datetime) -> int:
    """How many requests `actor` could decide on now (a read: expiry is left to the deciders)."""
    return sum(1 for operation in _unexpired(session, now) if _may_decide(actor, operation))


def list_requested_by(session: Session, actor: Actor, now: datetime) -> list[Operation]:
    """`actor`'s own requests still waiting for someone else's decision."""
    return [o for o in _unexpired(session, now) if o.requested_by == actor.name]


def approvers_for(session: Session, operation: Operation) -> list[str]:
    """The names of the live admin tokens that may decide on `operation` (not its requester)."""
    tokens = session.exec(
        select(ApiToken).where(
            ApiToken.role == Role.admin.value, col(ApiToken.revoked_at).is_(None)
        )
    ).all()
    now = utc_now()
    return sorted(
        token.name
        for token in tokens
        if token.name != operation.requested_by
        and (token.expires_at is None or token.expires_at > now)
        and in_scope(token.scope, operation.environment_name)
    )


def _unexpired(session: Session, now: datetime) -> Sequence[Operation]:
    return session.exec(
        select(Operation)
        .where(
            Operation.status == OperationStatus.awaiting_approval,
            or_(
                col(Operation.approval_expires_at).is_(None),
                col(Operation.approval_expires_at) > now,
            ),
        )
        .order_by(col(Operation.id))
    ).all()


def _may_decide(actor: Actor, operation: Operation) -> bool:
    return (
        refusal(actor.role, actor.scope, Action.approve, operation.environment_name, False) is None
        and operation.requested_by != actor.name
    )


def approve_operation(
    session: Session, enqueue: Enqueue, operation_id: int, approver: Actor, comment: str
) -> Operation:
    with audited(session, approver, "operation.approve") as entry:
        entry.detail = f"operation {operation_id}" + (f": {comment}" if comment else "")
        operation = _awaiting(session, operation_id, approver)
        entry.environment = operation.environment_name
        return _approve(session, enqueue, operation, approver, comment)


def _approve(
    session: Session, enqueue: Enqueue, operation: Operation, approver: Actor, comment: str
) -> Operation:
    assert operation.id is not None and operation.environment_id is not None
    environment = environments.get_environment_by_id(
        session, operation.environment_id, for_update=True
    )
    _record_decision(operation, approver, comment)
    if environment is None or environment.version != operation.definition_version:
        close_operation(
            session,
            operation.id,
            OperationStatus.rejected,
            error="The definition changed after the plan was made; the approval is void. "
            "Ask again to get a plan of the current definition.",
            error_code="definition_changed",
        )
    else:
        operation.status = OperationStatus.queued
        operation.job_id = enqueue(session, environment)
        session.add(operation)
    session.flush()
    session.refresh(operation)
    return operation


def reject_operation(
    session: Session, operation_id: int, approver: Actor, comment: str
) -> Operation:
    with audited(session, approver, "operation.reject") as entry:
        entry.detail = f"operation {operation_id}" + (f": {comment}" if comment else "")
        operation = _awaiting(session, operation_id, approver)
        entry.environment = operation.environment_name
        assert operation.id is not None
        _record_decision(operation, approver, comment)
        close_operation(
            session,
            operation.id,
            OperationStatus.rejected,
            error=f"Rejected by {approver.name}" + (f": {comment}" if comment else "."),
            error_code="rejected",
        )
        session.refresh(operation)
        return operation


def _awaiting(session: Session, operation_id: int, approver: Actor) -> Operation:
    expire_approvals(session)
    operation = require_operation(session, operation_id, for_update=True)
    if operation.status != OperationStatus.awaiting_approval:
        raise Conflict(f"Operation {operation_id} is not awaiting approval ({operation.status}).")
    if operation.requested_by == approver.name:
        raise Forbidden("You asked for this operation; another admin must decide on it.")
    return operation


def _record_decision(operation: Operation, approver: Actor, comment: str) -> None:
    operation.decided_by = approver.name
    operation.decision_comment = comment or None
    operation.decided_at = utc_now()
