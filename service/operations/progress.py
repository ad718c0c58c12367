"""Recording an operation's progress: its start, events, completed steps and outcome.

Each function is one short transaction, so what the engine reported is durable at once and a
killed worker loses at most the step it was in (and of that step, the events not yet written:
the worker writes them in batches, `service/jobs/event_writer.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from db.engine import session_scope
from db.models import Environment, Operation, OperationEvent, OperationStatus, Resource
from db.models.columns import utc_now
from service.drift import simulated_cloud
from service.engines.model import ResourceState, simulated_label
from service.engines.protocol import StepDone
from service.environments import repository as environments
from service.notifications.events import notify_operation_finished
from service.operations import repository

# The event that says a step took effect: what recovery reads after a crash (interruption.py).
STEP_COMPLETED = "step_completed"


def add_events(
    db: Engine, operation_id: int, events: Sequence[tuple[datetime, dict[str, Any]]]
) -> None:
    """Store events, each with the time it was received, in one transaction: their seqs
    follow the highest stored one, gap-free, in the order given."""
    with session_scope(db) as session:
        first = repository.next_event_seq(session, operation_id)
        session.add_all(
            OperationEvent(
                operation_id=operation_id,
                seq=seq,
                at=at,
                type=str(event.get("type", "diagnostic")),
                message=str(event.get("message", "")),
                data={key: value for key, value in event.items() if key not in ("type", "message")},
            )
            for seq, (at, event) in enumerate(events, start=first)
        )


def step_label(action: str, tier: int | None) -> str:
    """What a step does, in a few words: "up to tier 2", "destroy"."""
    if action == "destroy":
        return "destroy"
    words = {
        "up": "up to",
        "preview": "preview of",
        "refresh": "refresh at",
        "drift_check": "drift check at",
    }
    return f"{words.get(action, action)} tier {tier}"


def complete_step(
    db: Engine,
    operation_id: int,
    environment_id: int,
    step: StepDone,
    data_loss: list[dict[str, Any]] | None,
    index: int,
    total: int,
) -> None:
    """Store what a completed step left behind (its resources and the tier it reached, when it
    changed them) and an event saying it completed, in one transaction: after a crash, the
    events say exactly which steps took effect."""
    with session_scope(db) as session:
        operation = session.get(Operation, operation_id)
        label = simulated_label(operation is not None and operation.engine == "simulator")
        if step.resources is not None:
            _record_resources(session, environment_id, step, step.resources)
        if step.out_of_band is not None:
            # The simulator's pretend cloud after the step: what it overwrote is gone.
            simulated_cloud.keep_only(
                session, environment_id, [item.model_dump() for item in step.out_of_band]
            )
        session.add(
            OperationEvent(
                operation_id=operation_id,
                seq=repository.next_event_seq(session, operation_id),
                type=STEP_COMPLETED,
                message=f"{label}step {index} of {total} completed: "
                f"{step_label(step.action, step.tier)}",
                data={
                    "action": step.action,
                    "tier": step.tier,
                    "index": index,
                    "total": total,
                    "changes": step.changes,
                    "outputs": step.outputs,
                    "data_loss": data_loss,
                },
            )
        )


def _record_resources(
    session: Session, environment_id: int, step: StepDone, resources: list[ResourceState]
) -> None:
    environment = session.get(Environment, environment_id, with_for_update=True)
    if environment is None:
        return
    environments.replace_resources(
        session,
        environment_id,
        [
            # The table calls the cloud's id `cloud_id`; its own `id` is the row's.
            Resource(
                environment_id=environment_id,
                position=position,
                cloud_id=item.id,
                **item.model_dump(exclude={"id"}),
            )
            for position, item in enumerate(resources)
        ],
    )
    environment.applied_tier = None if step.action == "destroy" else step.tier
    session.add(environment)


def close_operation(
    session: Session,
    operation_id: int,
    status: OperationStatus,
    *,
    changes: dict[str, int] | None = None,
    outputs: dict[str, Any] | None = None,
    data_loss: list[dict[str, Any]] | None = None,
    drift: list[dict[str, Any]] | None = None,
    error: str | None = None,
    error_code: str | None = None,
) -> bool:
    """Set the outcome once, with the final event in the same transaction, so a reader that
    sees a finished operation also sees its last event. A finished operation is left alone."""
    operation = session.get(Operation, operation_id, with_for_update=True)
    if operation is None or OperationStatus(operation.status).finished:
        return False
    operation.status = status
    operation.finished_at = utc_now()
    if changes is not None:
        operation.changes = changes
    if outputs is not None:
        operation.outputs = outputs
    if data_loss is not None:
        operation.data_loss = data_loss
    if drift is not None:
        operation.drift = drift
    if error is not None:
        operation.error = error
        operation.error_code = error_code
    session.add(operation)
    label = simulated_label(operation.engine == "simulator")
    session.add(
        OperationEvent(
            operation_id=operation_id,
            seq=repository.next_event_seq(session, operation_id),
            type="operation_finished",
            message=f"{label}{status.value}" + (f": {error}" if error else ""),
            data={"status": status.value, "engine": operation.engine},
        )
    )
    notify_operation_finished(session, operation)
    return True


def finish_operation(
    db: Engine, operation_id: int, status: OperationStatus, **outcome: Any
) -> bool:
    with session_scope(db) as session:
        return close_operation(session, operation_id, status, **outcome)
