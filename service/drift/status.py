"""An environment's drift status, read from its operations: the last drift check says what it
found, unless something changed the environment after it."""

from __future__ import annotations

from sqlmodel import Session, col, select

from db.models import Environment, Operation, OperationKind, OperationStatus
from service.drift.schemas import DriftedResourcePublic, DriftPublic, DriftStatus
from service.operations.repository import RESOURCE_CHANGING

# Kinds whose run changes the state a drift check compared (a refresh rewrites it too).
STATE_CHANGING = (*RESOURCE_CHANGING, OperationKind.refresh)
# Ran, so possibly changed something; a rejected or never-started operation did not.
RAN = (OperationStatus.succeeded, OperationStatus.failed, OperationStatus.cancelled)


def drift_report(session: Session, environment: Environment) -> DriftPublic:
    assert environment.id is not None
    status, reason, check = _status(session, environment)
    return DriftPublic(
        environment=environment.name,
        status=status,
        reason=reason,
        checked_at=check.finished_at if check else None,
        check_operation_id=check.id if check else None,
        resources=[DriftedResourcePublic(**item) for item in check.drift or []]
        if check is not None and status == DriftStatus.drifted
        else [],
        engine=environment.engine,
        simulated=environment.engine == "simulator",
    )


def _status(
    session: Session, environment: Environment
) -> tuple[DriftStatus, str, Operation | None]:
    if environment.applied_tier is None:
        return DriftStatus.unknown, "Nothing is deployed, so nothing can drift.", None
    check = session.exec(
        select(Operation)
        .where(
            Operation.environment_id == environment.id,
            Operation.kind == OperationKind.drift_check,
            col(Operation.status).in_(RAN),
        )
        .order_by(col(Operation.id).desc())
        .limit(1)
    ).first()
    if check is None:
        return DriftStatus.unknown, "Never checked: ask for a drift check.", None
    if check.status != OperationStatus.succeeded:
        return (
            DriftStatus.unknown,
            f"The last drift check (operation {check.id}) did not complete: "
            f"{check.error or check.status}",
            check,
        )
    changed_since = session.exec(
        select(Operation.id)
        .where(
            Operation.environment_id == environment.id,
            col(Operation.id) > check.id,
            col(Operation.kind).in_(STATE_CHANGING),
            col(Operation.status).in_(RAN),
        )
        .order_by(col(Operation.id).desc())
        .limit(1)
    ).first()
    if changed_since is not None:
        return (
            DriftStatus.unknown,
            f"Operation {changed_since} changed the environment after the last drift check "
            f"(operation {check.id}): check again.",
            check,
        )
    if check.drift:
        count = len(check.drift)
        return (
            DriftStatus.drifted,
            f"{count} resource(s) differ from what Stepladder last applied; reconcile to apply "
            "the definition again, or refresh to accept the cloud as it is.",
            check,
        )
    return DriftStatus.in_sync, "The cloud matched the recorded state at the last check.", check
