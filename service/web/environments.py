"""Environment pages: the list, the create and edit forms, and one environment's page."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from db.models import OperationKind
from programs import TIERS
from service.access.domain import record_audit
from service.access.roles import Action, in_scope
from service.api.deps import SessionDep, SettingsDep
from service.environments import domain, repository
from service.environments.schemas import EnvironmentCreate, EnvironmentUpdate
from service.errors import Conflict, InvalidInput, PreconditionFailed
from service.operations import repository as operation_queries
from service.operations.domain import describe_operation
from service.schedules import domain as schedules
from service.web import once
from service.web.architecture import render_svg
from service.web.auth import Viewer, check_form, page_viewer, require
from service.web.forms import FIELDS, form_errors, parse_definition
from service.web.templating import render

router = APIRouter(include_in_schema=False)


async def form_data(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: str(value) for key, value in form.items()}


FormData = Annotated[dict[str, str], Depends(form_data)]


@router.get("/")
def environment_list(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    viewer = page_viewer(request, session)
    visible = [
        environment
        for environment in repository.list_environments(session)
        if in_scope(viewer.actor.scope, environment.name)
    ]
    described = domain.describe_environments(session, visible)
    last_operations = {}
    for environment in visible:
        assert environment.id is not None
        latest = operation_queries.list_operations_for(session, environment.id, 1)
        last_operations[environment.id] = latest[0] if latest else None
    return render(
        request,
        "environments.html",
        viewer,
        settings,
        environments=described,
        last_operations=last_operations,
        tiers=TIERS,
        may_create=viewer.may(Action.edit),
    )


@router.get("/environments/new")
def new_environment(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    viewer = page_viewer(request, session)
    require(session, request, viewer, Action.edit)
    return _definition_form(request, viewer, settings, values={}, errors={}, creating=True)


@router.post("/environments")
def create_environment(
    request: Request, session: SessionDep, settings: SettingsDep, form: FormData
) -> Response:
    viewer = page_viewer(request, session)
    check_form(request, viewer, form.get("csrf_token", ""))
    require(session, request, viewer, Action.edit, form.get("name"))
    replay = once.claim(request, viewer, form)
    if replay is not None:
        return replay
    try:
        data = EnvironmentCreate.model_validate(parse_definition(form, include_name=True))
        environment = domain.create_environment(session, data, engine=settings.engine)
    except ValidationError as error:
        once.failed(request, viewer, form)
        errors, status = form_errors(error)
        return _definition_form(
            request, viewer, settings, form, errors, creating=True, status=status
        )
    except Conflict as error:
        session.rollback()
        once.failed(request, viewer, form)
        return _definition_form(
            request, viewer, settings, form, {"name": error.detail}, creating=True, status=409
        )
    _audit(session, request, viewer, "environment.create", environment.name)
    session.commit()
    location = f"/environments/{environment.name}"
    once.done(request, viewer, form, location)
    return RedirectResponse(location, status_code=303)


@router.get("/environments/{name}/edit")
def edit_environment(
    name: str, request: Request, session: SessionDep, settings: SettingsDep
) -> Response:
    viewer = page_viewer(request, session)
    environment = domain.require_environment(session, name)
    require(session, request, viewer, Action.edit, name, environment.protected)
    values = {field.name: _display(getattr(environment, field.name)) for field in FIELDS}
    return _definition_form(
        request, viewer, settings, values, {}, creating=False, etag=domain.etag(environment)
    )


@router.post("/environments/{name}/edit")
def save_environment(
    name: str, request: Request, session: SessionDep, settings: SettingsDep, form: FormData
) -> Response:
    viewer = page_viewer(request, session)
    check_form(request, viewer, form.get("csrf_token", ""))
    environment = domain.require_environment(session, name)
    require(session, request, viewer, Action.edit, name, environment.protected)
    values = {**form, "name": name}
    try:
        changes = EnvironmentUpdate.model_validate(parse_definition(form, include_name=False))
        domain.update_environment(session, name, changes, if_match=form.get("etag"))
    except (ValidationError, InvalidInput, Conflict, PreconditionFailed) as error:
        session.rollback()
        errors, status = form_errors(error)
        return _definition_form(
            request,
            viewer,
            settings,
            values,
            errors,
            creating=False,
            status=status,
            etag=form.get("etag"),
        )
    _audit(session, request, viewer, "environment.update", name)
    return RedirectResponse(f"/environments/{name}", status_code=303)


@router.get("/environments/{name}")
def environment_page(
    name: str, request: Request, session: SessionDep, settings: SettingsDep
) -> Response:
    viewer = page_viewer(request, session)
    require(session, request, viewer, Action.read, name)
    environment = domain.require_environment(session, name)
    assert environment.id is not None
    described = domain.describe_environment(session, environment)
    resources = repository.list_resources(session, environment.id)
    operations = [
        describe_operation(operation)
        for operation in operation_queries.list_operations_for(session, environment.id, 20)
    ]
    return render(
        request,
        "environment.html",
        viewer,
        settings,
        environment=described,
        tiers=TIERS,
        architecture=render_svg(resources, name),
        resources=[domain.describe_resource(resource) for resource in resources],
        operations=operations,
        schedules=[
            schedules.describe_schedule(s, name)
            for s in schedules.list_schedules(session, environment.id)
        ],
        may_operate=viewer.may(Action.operate, name),
        may_edit=viewer.may(Action.edit, name, environment.protected),
        needs_approval=environment.protected and viewer.actor.role.value != "admin",
        kinds=OperationKind,
    )


def _definition_form(
    request: Request,
    viewer: Viewer,
    settings: Any,
    values: dict[str, Any],
    errors: dict[str, str],
    *,
    creating: bool,
    status: int = 200,
    etag: str | None = None,
) -> HTMLResponse:
    shown = {field.name: values.get(field.name, _display(field.default)) for field in FIELDS}
    return render(
        request,
        "definition_form.html",
        viewer,
        settings,
        status_code=status,
        fields=FIELDS,
        values=shown,
        errors=errors,
        creating=creating,
        etag=etag,
        idempotency_key=uuid.uuid4().hex,
    )


def _display(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(value)
    if isinstance(value, bool):
        return "on" if value else ""
    return str(value)


def _audit(
    session: SessionDep, request: Request, viewer: Viewer, action: str, environment: str
) -> None:
    record_audit(
        session,
        actor=viewer.actor.name,
        channel="web",
        action=action,
        outcome="ok",
        environment=environment,
        request_id=request.state.request_id,
    )
