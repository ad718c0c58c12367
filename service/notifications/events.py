"""Recording what happened for the webhooks that want it, in the caller's transaction.

A delivery row and its job are written with the change they report, on the same connection:
a change that rolls back sends nothing, and one that commits is never lost, even if the process
dies the next moment (the job waits in the queue for any worker).
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from db.models import Operation, OperationKind, OperationStatus, Webhook, WebhookDelivery
from db.models.columns import utc_now
from service.jobs.deferral import defer_in_transaction
from service.notifications.schemas import Event

DELIVER_WEBHOOK = "stepladder:deliver_webhook"


def notify(session: Session, event: Event, data: dict[str, Any]) -> list[int]:
    """Queue `event` for every enabled webhook subscribed to it; returns the delivery ids."""
    deliveries = []
    for webhook in session.exec(select(Webhook).where(Webhook.enabled)):
        if event.value not in webhook.events:
            continue
        assert webhook.id is not None
        delivery = WebhookDelivery(
            webhook_id=webhook.id,
            event=event.value,
            payload={"event": event.value, "occurred_at": utc_now().isoformat(), "data": data},
        )
        session.add(delivery)
        session.flush()
        assert delivery.id is not None
        defer_in_transaction(session, DELIVER_WEBHOOK, delivery_id=delivery.id)
        deliveries.append(delivery.id)
    return deliveries


def operation_facts(operation: Operation) -> dict[str, Any]:
    """What a receiver needs to know about an operation, and whether it was simulated."""
    return {
        "operation_id": operation.id,
        "environment": operation.environment_name,
        "kind": operation.kind,
        "status": operation.status,
        "from_tier": operation.from_tier,
        "to_tier": operation.to_tier,
        "engine": operation.engine,
        "simulated": operation.engine == "simulator",
        "requested_by": operation.requested_by,
        "error": operation.error,
        "error_code": operation.error_code,
    }


def notify_operation_finished(session: Session, operation: Operation) -> None:
    succeeded = operation.status == OperationStatus.succeeded
    event = Event.operation_succeeded if succeeded else Event.operation_failed
    notify(session, event, operation_facts(operation))
    if succeeded and operation.kind == OperationKind.drift_check and operation.drift:
        drifted = [
            {key: item[key] for key in ("type", "name", "op", "properties")}
            for item in operation.drift
        ]
        notify(session, Event.drift_detected, {**operation_facts(operation), "drift": drifted})


def notify_approval_needed(session: Session, operation: Operation) -> None:
    facts = operation_facts(operation)
    expires = operation.approval_expires_at
    facts["approval_expires_at"] = expires.isoformat() if expires else None
    notify(session, Event.approval_needed, facts)
