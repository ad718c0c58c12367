"""Admin pages: approvals waiting for a decision, and the audit log with filters."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from service.access.domain import list_audit, record_audit
from service.access.roles import Action, in_scope
from service.api.deps import EnqueueDep, SessionDep, SettingsDep
from service.api.params import BeforeId, OperationId
from service.errors import StepladderError
from service.operations import approvals
from service.operations.domain import describe_operation, require_operation
from service.web.auth import check_form, page_viewer, require
from service.web.environments import FormData
from service.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/approvals")
def approvals_page(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    viewer = page_viewer(request, session)
    require(session, request, viewer, Action.approve)
    waiting = [
        describe_operation(operation)
        for operation in approvals.list_awaiting(session)
        if in_scope(viewer.actor.scope, operation.environment_name)
    ]
    return render(request, "approvals.html", viewer, settings, waiting=waiting, error=None)


@router.post("/approvals/{operation_id}")
def decide(
    operation_id: OperationId,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    enqueue: EnqueueDep,
    form: FormData,
) -> Response:
    viewer = page_viewer(request, session)
    check_form(request, viewer, form.get("csrf_token", ""))
    require(session, request, viewer, Action.approve)
    require(
        session,
        request,
        viewer,
        Action.approve,
        require_operation(session, operation_id, visible_to=viewer.actor).environment_name,
    )
    comment = form.get("comment", "")[:500]
    approve = form.get("decision") == "approve"
    try:
        if approve:
            operation = approvals.approve_operation(
                session, enqueue, operation_id, viewer.actor, comment
            )
        else:
            operation = approvals.reject_operation(session, operation_id, viewer.actor, comment)
    except StepladderError as error:
        session.rollback()
        waiting = [describe_operation(op) for op in approvals.list_awaiting(session)]
        return render(
            request, "approvals.html", viewer, settings,
            status_code=error.status_code, waiting=waiting, error=error.detail,
        )  # fmt: skip
    record_audit(
        session,
        actor=viewer.actor.name,
        channel="web",
        action="operation.approve" if approve else "operation.reject",
        outcome="ok",
        environment=operation.environment_name,
        request_id=request.state.request_id,
        detail=f"operation {operation_id}" + (f": {comment}" if comment else ""),
    )
    return RedirectResponse("/approvals", status_code=303)


@router.get("/audit")
def audit_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    environment: str | None = None,
    actor: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before_id: BeforeId = None,
    limit: int = Query(default=100, ge=1, le=1000),
) -> Response:
    viewer = page_viewer(request, session)
    require(session, request, viewer, Action.administer)
    filters = {"environment": environment, "actor": actor, "action": action}
    records = list_audit(
        session,
        environment=environment or None,
        actor=actor or None,
        action=action or None,
        since=since,
        until=until,
        limit=limit,
        before_id=before_id,
        by=viewer.actor,
    )
    return render(request, "audit.html", viewer, settings, records=records, filters=filters)
