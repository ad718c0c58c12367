"""Creating, listing and deleting webhooks as audited changes: what the API and the web call."""

from __future__ import annotations

import secrets

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from db.models import Webhook, WebhookDelivery
from service.access.audit import audited
from service.access.domain import Actor
from service.errors import Conflict, NotFound
from service.notifications.schemas import (
    DeliveryPublic,
    WebhookCreate,
    WebhookCreated,
    WebhookPublic,
)
from service.notifications.sealing import seal

DELIVERIES_SHOWN = 100


def create_webhook(
    session: Session, data: WebhookCreate, actor: Actor, key: bytes
) -> WebhookCreated:
    with audited(session, actor, "webhook.create") as entry:
        entry.detail = f"webhook '{data.name}' to {data.url} for {', '.join(data.events)}"
        secret = "whsec_" + secrets.token_urlsafe(32)
        webhook = Webhook(
            name=data.name,
            url=data.url,
            events=[event.value for event in data.events],
            format=data.format.value,
            sealed_secret=seal(key, secret),
            created_by=actor.name,
        )
        savepoint = session.begin_nested()
        session.add(webhook)
        try:
            savepoint.commit()
        except IntegrityError:
            savepoint.rollback()
            raise Conflict(f"A webhook named '{data.name}' already exists.") from None
        return WebhookCreated(**_public(webhook).model_dump(), secret=secret)


def list_webhooks(session: Session) -> list[WebhookPublic]:
    return [_public(hook) for hook in session.exec(select(Webhook).order_by(Webhook.name))]


def delete_webhook(session: Session, name: str, actor: Actor) -> WebhookPublic:
    with audited(session, actor, "webhook.delete") as entry:
        entry.detail = f"webhook '{name}'"
        webhook = _find(session, name)
        public = _public(webhook)
        session.delete(webhook)  # its deliveries go with it (ON DELETE CASCADE)
        return public


def list_deliveries(session: Session, name: str) -> list[DeliveryPublic]:
    """The newest deliveries first: what was sent, how often, and what the receiver said."""
    webhook = _find(session, name)
    rows = session.exec(
        select(WebhookDelivery)
        .where(WebhookDelivery.webhook_id == webhook.id)
        .order_by(col(WebhookDelivery.id).desc())
        .limit(DELIVERIES_SHOWN)
    )
    return [DeliveryPublic.model_validate(row, from_attributes=True) for row in rows]


def _find(session: Session, name: str) -> Webhook:
    webhook = session.exec(select(Webhook).where(Webhook.name == name)).first()
    if webhook is None:
        raise NotFound(f"No webhook named '{name}'.")
    return webhook


def _public(webhook: Webhook) -> WebhookPublic:
    return WebhookPublic.model_validate(webhook, from_attributes=True)
