"""One operation's page (live log) and cancelling it, with a confirmation first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from service.access.roles import Action
from service.api.deps import SessionDep, SettingsDep
from service.api.params import OperationId
from service.errors import StepladderError
from service.operations import repository as operation_queries
from service.operations.domain import (
    cancel_operation,
    describe_event,
    describe_operation,
    is_finished,
    require_operation,
)
from service.operations.tally import changed_resource_count, planned_resource_count
from service.web.auth import PageViewer, Viewer, allowed
from service.web.environments import FormData
from service.web.templating import render

router = APIRouter(include_in_schema=False)
Canceller = Annotated[Viewer, allowed(Action.operate, "operation.cancel")]


@router.get("/operations/{operation_id}")
def operation_page(
    operation_id: OperationId,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    viewer: PageViewer,
) -> Response:
    return _page(request, session, settings, viewer, operation_id, confirming=False)


@router.get("/operations/{operation_id}/cancel")
def confirm_cancel(
    operation_id: OperationId,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    viewer: Canceller,
) -> Response:
    return _page(request, session, settings, viewer, operation_id, confirming=True)


@router.post("/operations/{operation_id}/cancel")
def cancel_from_page(
    operation_id: OperationId,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    form: FormData,
    viewer: Canceller,
) -> Response:
    viewer.require(
        session, require_operation(session, operation_id, visible_to=viewer.actor).environment_name
    )
    try:
        with session.begin_nested():
            cancel_operation(session, operation_id, viewer.actor)
    except StepladderError as error:
        return _page(
            request, session, settings, viewer, operation_id, confirming=False,
            error=error.detail, status=error.status_code,
        )  # fmt: skip
    return RedirectResponse(f"/operations/{operation_id}?done=cancel", status_code=303)


def _page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    viewer: Viewer,
    operation_id: int,
    *,
    confirming: bool,
    error: str | None = None,
    status: int = 200,
) -> Response:
    operation = require_operation(session, operation_id, visible_to=viewer.actor)
    viewer.require(session, operation.environment_name, Action.read)
    events = operation_queries.list_events(session, operation_id)
    return render(
        request,
        "operation.html",
        viewer,
        settings,
        status_code=status,
        operation=describe_operation(operation),
        events=[describe_event(event) for event in events],
        finished=is_finished(operation),
        planned=planned_resource_count(session, operation),
        changed=changed_resource_count(events),
        may_cancel=viewer.may(Action.operate, operation.environment_name),
        confirming=confirming,
        error=error,
        done=request.query_params.get("done"),
    )
