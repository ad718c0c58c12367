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

router = APIRouter(prefix="/api/audit", tags=["audit"], responses=EVERY_ROUTE)


@router.get("")
def list_audit(
    session: SessionDep,
    guard: Annotated[Guard, Depends(Permission(Action.administer), scope="function")],
    environment: str | None = None,
    actor: str | None = None,
    action: str | None = None,
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
