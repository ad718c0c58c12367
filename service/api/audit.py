"""The audit log, for admins: /api/audit, newest first, filtered and paged."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from service.access import domain
from service.access.roles import Action
from service.access.schemas import AuditPublic
from service.api.deps import SessionDep
from service.api.guard import Guard, Permission
from service.api.params import BeforeId
from service.api.responses import EVERY_ROUTE
from service.environments.catalog import MAX_ENVIRONMENT_NAME

router = APIRouter(prefix="/api/audit", tags=["audit"], responses=EVERY_ROUTE)

# Longer than any token or single-sign-on name, and any action (`environment.promote`).
MAX_ACTOR = 200
MAX_ACTION = 100


@router.get("", name="list")
def list_audit(
    session: SessionDep,
    guard: Annotated[Guard, Depends(Permission(Action.administer), scope="function")],
    environment: Annotated[str | None, Query(max_length=MAX_ENVIRONMENT_NAME)] = None,
    actor: Annotated[str | None, Query(max_length=MAX_ACTOR)] = None,
    action: Annotated[str | None, Query(max_length=MAX_ACTION)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = Query(default=100, ge=1, le=1000),
    before_id: BeforeId = None,
) -> list[AuditPublic]:
    records = domain.list_audit(
        session,
        environment=environment,
        actor=actor,
        action=action,
        since=since,
        until=until,
        limit=limit,
        before_id=before_id,
        by=guard.actor,
    )
    return [AuditPublic(**record.model_dump()) for record in records]
