"""The change flow: a step's plan first (what it creates, changes and deletes), then confirm.

It uses the same domain functions as the API: `plan_tiers` and `plan_move` for the plan,
`request_operation` for the change; no rule is implemented twice.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from db.models import OperationKind
from db.models.columns import utc_now
from programs import tier_by_level
from service.access import request_safety
from service.access.roles import Action
from service.api.deps import EnqueueDep, SessionDep, SettingsDep
from service.api.params import OperationId
from service.environments.domain import require_environment
from service.errors import StepladderError
from service.operations import repository as operation_queries
from service.operations.domain import (
    cancel_operation,
    describe_event,
    describe_operation,
    request_operation,
    require_operation,
)
from service.operations.planning import plan_tiers
from service.operations.safety import plan_move
from service.web import once
from service.web.auth import check_form, page_viewer, require
from service.web.environments import FormData
from service.web.templating import render

router = APIRouter(include_in_schema=False)

CHANGES = {
    "promote": OperationKind.promote,
    "demote": OperationKind.demote,
    "set_tier": OperationKind.set_tier,
    "destroy": OperationKind.destroy,
}


@router.get("/environments/{name}/change")
def preview_change(
    name: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    kind: str = Query(default=""),
    target_tier: Annotated[int | None, Query(ge=0, le=7)] = None,
) -> Response:
    viewer = page_viewer(request, session)
    environment = require_environment(session, name)
    assert environment.id is not None
    operation_kind = CHANGES.get(kind)
    action = Action.destroy if operation_kind == OperationKind.destroy else Action.operate
    require(session, request, viewer, action, name, environment.protected)
    error = None
    plan = None
    from_tier = to_tier = None
    try:
        if operation_kind is None:
            raise StepladderError(f"There is no change called '{kind}'.")
        projected = operation_queries.projected_tier(
            session, environment.id, environment.applied_tier
        )
        from_tier, to_tier = plan_tiers(operation_kind, projected, target_tier)
        plan = plan_move(environment, operation_kind, from_tier, to_tier, requested_at=utc_now())
    except StepladderError as refusal:
        error = refusal.detail
    return render(
        request,
        "change.html",
        viewer,
        settings,
        status_code=200 if error is None else 409,
        environment=environment,
        kind=kind,
        target_tier=target_tier,
        from_tier=from_tier,
        to_tier=to_tier,
        to_name=tier_by_level(to_tier).name if to_tier is not None else None,
        plan=plan,
        error=error,
        needs_approval=environment.protected and viewer.actor.role.value != "admin",
        idempotency_key=uuid.uuid4().hex,
    )


@router.post("/environments/{name}/change")
def confirm_change(
    name: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    enqueue: EnqueueDep,
    form: FormData,
) -> Response:
    viewer = page_viewer(request, session)
    check_form(request, viewer, form.get("csrf_token", ""))
    environment = require_environment(session, name)
    kind = CHANGES.get(form.get("kind", ""))
    action = Action.destroy if kind == OperationKind.destroy else Action.operate
    require(session, request, viewer, action, name, environment.protected)
    replay = once.claim(request, viewer, form)
    if replay is not None:
        return replay
    try:
        # The same per-caller limit as the API's operation routes.
        request_safety.enforce_rate_limit(
            request.app.state.db_engine, viewer.actor.name, settings.rate_limit_per_minute
        )
        if kind is None:
            raise StepladderError("Choose a change: promote, demote, set_tier or destroy.")
        target = form.get("target_tier")
        operation = request_operation(
            session,
            enqueue,
            environment_name=name,
            kind=kind,
            engine=settings.engine,
            target_tier=int(target) if target else None,
            confirm=form.get("confirm") or None,
            requested_by=viewer.actor,
            approval_hours=settings.approval_hours,
        )
    except StepladderError as refusal:
        session.rollback()
        once.failed(request, viewer, form)
        return render(
            request,
            "change.html",
            viewer,
            settings,
            status_code=refusal.status_code,
            environment=environment,
            kind=form.get("kind"),
            target_tier=form.get("target_tier"),
            error=refusal.detail,
            plan=None,
        )
    session.commit()
    location = f"/operations/{operation.id}"
    once.done(request, viewer, form, location)
    return RedirectResponse(location, status_code=303)


@router.get("/operations/{operation_id}")
def operation_page(
    operation_id: OperationId, request: Request, session: SessionDep, settings: SettingsDep
) -> Response:
    viewer = page_viewer(request, session)
    operation = require_operation(session, operation_id, visible_to=viewer.actor)
    require(session, request, viewer, Action.read, operation.environment_name)
    events = operation_queries.list_events(session, operation_id)
    return render(
        request,
        "operation.html",
        viewer,
        settings,
        operation=describe_operation(operation),
        events=[describe_event(event) for event in events],
        may_cancel=viewer.may(Action.operate, operation.environment_name),
    )


@router.post("/operations/{operation_id}/cancel")
def cancel_from_page(
    operation_id: OperationId, request: Request, session: SessionDep, form: FormData
) -> Response:
    viewer = page_viewer(request, session)
    check_form(request, viewer, form.get("csrf_token", ""))
    operation = require_operation(session, operation_id, visible_to=viewer.actor)
    require(session, request, viewer, Action.operate, operation.environment_name)
    cancel_operation(session, operation_id)
    return RedirectResponse(f"/operations/{operation_id}", status_code=303)
