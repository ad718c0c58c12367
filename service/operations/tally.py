"""How far an operation is: the plan's count of resources to change, and how many it changed."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session

from db.models import Environment, Operation, OperationEvent, OperationStatus
from service.errors import StepladderError
from service.operations.repository import RESOURCE_CHANGING
from service.operations.safety import plan_move

CHANGE_OPS = ("create", "update", "delete", "replace")


def planned_resource_count(session: Session, operation: Operation) -> int | None:
    """The resources the operation's plan changes, known before it starts; None when no plan
    can say (a refresh, or a finished operation that kept neither a plan nor its totals)."""
    if operation.plan is not None:
        return len(operation.plan.get("resources", []))
    if OperationStatus(operation.status).finished:
        if operation.status != OperationStatus.succeeded or not operation.changes:
            return None  # a failed run's totals cover only what it got through
        return sum(int(operation.changes.get(op, 0)) for op in CHANGE_OPS)
    if operation.kind not in RESOURCE_CHANGING or operation.environment_id is None:
        return None
    environment = session.get(Environment, operation.environment_id)
    if environment is None:
        return None
    try:
        # The same plan the request was shown (cached declarations); never declares on a read.
        plan = plan_move(
            session, environment, operation.kind, operation.from_tier, operation.to_tier,
            cached_only=True,
        )  # fmt: skip
    except StepladderError:
        return None
    return len(plan.resources)


def changed_resource_count(events: Sequence[OperationEvent]) -> int:
    """Resources the run has finished changing: one per resource per step, however many events
    the engine sends for it (a replacement reports its create and its delete)."""
    finished: set[tuple[int, str]] = set()
    step = 0
    for event in events:
        if event.type == "step_started":
            step += 1
        elif event.type == "resource_outputs":
            finished.add((step, str(event.data.get("urn") or event.message)))
    return len(finished)
