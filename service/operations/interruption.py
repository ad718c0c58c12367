"""Closing an operation whose worker is gone, from what was recorded before it went.

The worker records each completed step (its resources, the tier reached, a `step_completed`
event) in one transaction, and the steps it planned in the `operation_started` event. A worker
killed after its last step was recorded but before the operation was closed did everything it
was asked: the operation succeeded, with the counts its steps recorded. Otherwise it failed
(interrupted), and its error says which steps completed and which did not.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from db.engine import session_scope
from db.models import Operation, OperationEvent, OperationStatus
from service.engines.model import simulated_label
from service.operations import progress, repository

OPERATION_STARTED = "operation_started"
COUNTED = ("create", "update", "delete", "replace")


def close_interrupted(db: Engine, operation_ids: list[int], reason: str) -> list[int]:
    """Close each operation honestly; the ids of those this call closed."""
    closed = []
    for operation_id in operation_ids:
        with session_scope(db) as session:
            if _close_one(session, operation_id, reason):
                closed.append(operation_id)
    return closed


def _close_one(session: Session, operation_id: int, reason: str) -> bool:
    events = repository.list_events(session, operation_id)
    planned = _planned_steps(events)
    completed = [event.data for event in events if event.type == progress.STEP_COMPLETED]
    if planned and len(completed) == len(planned):
        operation = session.get(Operation, operation_id)
        label = simulated_label(operation is not None and operation.engine == "simulator")
        session.add(
            OperationEvent(
                operation_id=operation_id,
                seq=repository.next_event_seq(session, operation_id),
                type="recovery",
                message=f"{label}the worker stopped after every step had completed and been "
                "recorded; the operation's result comes from those records",
            )
        )
        return progress.close_operation(
            session,
            operation_id,
            OperationStatus.succeeded,
            changes=_total_changes(completed),
            outputs=_last(completed, "outputs") or {},
            data_loss=_last(completed, "data_loss"),
        )
    return progress.close_operation(
        session,
        operation_id,
        OperationStatus.failed,
        error=f"{reason}{_which_steps(planned, completed)}",
        error_code="interrupted",
    )


def _planned_steps(events: Any) -> list[dict[str, Any]]:
    for event in events:
        if event.type == OPERATION_STARTED:
            steps: list[dict[str, Any]] = event.data.get("steps") or []
            return steps
    return []


def _last(completed: list[dict[str, Any]], key: str) -> Any:
    """The value the last step that recorded one gave (a preview's data loss, the outputs)."""
    return next((step[key] for step in reversed(completed) if step.get(key)), None)


def _total_changes(completed: list[dict[str, Any]]) -> dict[str, int]:
    """As the engine totals them: changes add up over the steps, `same` is the last step's."""
    totals = {op: sum(int(s["changes"].get(op, 0)) for s in completed) for op in COUNTED}
    totals["same"] = int(completed[-1]["changes"].get("same", 0))
    return totals


def _which_steps(planned: list[dict[str, Any]], completed: list[dict[str, Any]]) -> str:
    if not planned:
        return ""
    total = len(planned)
    parts = [
        f"step {index} of {total} ({progress.step_label(step['action'], step.get('tier'))}) "
        "completed"
        for index, step in enumerate(planned[: len(completed)], start=1)
    ]
    stopped = planned[len(completed)]
    parts.append(
        f"step {len(completed) + 1} of {total} "
        f"({progress.step_label(stopped['action'], stopped.get('tier'))}) did not"
    )
    return " Of its steps: " + "; ".join(parts) + "."
