"""Outgoing webhooks, for admins: /api/webhooks."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status

from service.access.roles import Action
from service.api.deps import SessionDep, SettingsDep
from service.api.guard import Guard, Permission
from service.api.params import WebhookName
from service.api.responses import EVERY_ROUTE, JSON_BODY, errors
from service.notifications import domain
from service.notifications.schemas import (
    DeliveryPublic,
    WebhookCreate,
    WebhookCreated,
    WebhookPublic,
)
from service.notifications.sealing import service_key

router = APIRouter(prefix="/api/webhooks", tags=["webhooks"], responses=EVERY_ROUTE)

WebhookAdmin = Annotated[Guard, Depends(Permission(Action.administer), scope="function")]


@router.post(
    "", name="create", status_code=status.HTTP_201_CREATED, responses={**JSON_BODY, **errors(409)}
)
def create_webhook(
    data: WebhookCreate,
    session: SessionDep,
    settings: SettingsDep,
    guard: Annotated[
        Guard, Depends(Permission(Action.administer, "webhook.create"), scope="function")
    ],
) -> WebhookCreated:
    """The answer carries the signing secret, once."""
    return domain.create_webhook(session, data, guard.actor, service_key(settings))


@router.get("", name="list")
def list_webhooks(session: SessionDep, guard: WebhookAdmin) -> list[WebhookPublic]:
    return domain.list_webhooks(session)


@router.delete("/{webhook_name}", name="delete", responses=errors(404))
def delete_webhook(
    webhook_name: WebhookName,
    session: SessionDep,
    guard: Annotated[
        Guard, Depends(Permission(Action.administer, "webhook.delete"), scope="function")
    ],
) -> WebhookPublic:
    return domain.delete_webhook(session, webhook_name, guard.actor)


@router.get("/{webhook_name}/deliveries", name="list_deliveries", responses=errors(404))
def list_deliveries(
    webhook_name: WebhookName, session: SessionDep, guard: WebhookAdmin
) -> list[DeliveryPublic]:
    """The newest 100 deliveries: event, status, attempts, the receiver's last answer."""
    return domain.list_deliveries(session, webhook_name)
