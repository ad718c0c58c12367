"""Environment pages: the list, the create and edit forms, and one environment's page."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from db.models import Environment, OperationKind
from programs import TIERS
from service.access.roles import Action
from service.api.deps import ClockDep, SessionDep, SettingsDep
from service.costs.domain import NOT_YET, estimate_tier, tier_costs
from service.costs.moves import describe
from service.costs.prices import load_price_book
from service.costs.schemas import CostEstimatePublic
from service.drift.status import drift_report
from service.environments import domain, repository
from service.environments.schemas import EnvironmentCreate, EnvironmentUpdate
from service.errors import Conflict, PreconditionFailed, StepladderError
from service.operations import repository as operation_queries
from service.operations.domain import describe_operation, needs_approval
from service.schedules.domain import describe_schedule
from service.schedules.repository import list_schedules
from service.web import form_idempotency
from service.web.architecture import render_svg
from service.web.auth import PageViewer, Viewer, allowed
from service.web.definition_edit import (
    Difference,
    decode_loaded,
    display_value,
    encode_loaded,
    fixed_while_deployed,
    form_values,
    merge_concurrent_edit,
)
from service.web.forms import BY_NAME, FIELDS, GROUPS, REQUIRED, form_errors, parse_definition
from service.web.templating import render

router = APIRouter(include_in_schema=False)


async def form_data(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: str(value) for key, value in form.items()}


FormData = Annotated[dict[str, str], Depends(form_data)]


Editor = Annotated[Viewer, allowed(Action.edit, "environment.create")]


@router.get("/")
def environment_list(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    viewer: PageViewer,
) -> Response:
    visible = repository.list_visible(session, viewer.actor)
    described = domain.describe_environments(session, visible)
    ids = [environment.id for environment in visible if environment.id is not None]
    latest = operation_queries.latest_operations(session, ids)
    last_operations = {environment_id: latest.get(environment_id) for environment_id in ids}
    return render(
        request,
        "environments.html",
        viewer,
        settings,
        environments=described,
        last_operations=last_operations,
        tiers=TIERS,
        now=clock.now(),
        may_create=viewer.may(Action.edit),
    )


@router.get("/environments/new")
def new_environment(request: Request, settings: SettingsDep, viewer: Editor) -> Response:
    return _definition_form(request, viewer, settings, values={}, errors={}, creating=True)


@router.post("/environments")
def create_environment(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    form: FormData,
    viewer: Editor,
) -> Response:
    viewer.require(session, form.get("name"))
    replay = form_idempotency.claim(request, viewer, form)
    if replay is not None:
        return replay
    try:
        data = EnvironmentCreate.model_validate(parse_definition(form, include_name=True))
        with session.begin_nested():
            environment = domain.create_environment(
                session, data, settings.engine, viewer.actor, now=clock.now(),
                confirm=form.get("confirm") or None,
            )  # fmt: skip
    except (ValidationError, StepladderError) as error:
        form_idempotency.release(request, viewer, form)
        errors, status = form_errors(error)
        if status == 409 and "_form" in errors:  # the name is taken (a refusal of a field names it)
            errors = {"name": errors["_form"]}
        return _definition_form(
            request, viewer, settings, form, errors, creating=True, status=status
        )
    location = f"/environments/{environment.name}?done=created"
    form_idempotency.complete(request, viewer, form, location)
    return RedirectResponse(location, status_code=303)


@router.get("/environments/{name}/edit")
def edit_environment(
    name: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    viewer: Annotated[Viewer, allowed(Action.edit, "environment.update")],
) -> Response:
    environment = domain.require_environment(session, name)
    values = form_values(environment)
    return _definition_form(
        request, viewer, settings, values, {}, creating=False, etag=domain.etag(environment),
        fixed=fixed_while_deployed(environment), loaded=encode_loaded(values),
    )  # fmt: skip


@router.post("/environments/{name}/edit")
def save_environment(
    name: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    form: FormData,
    viewer: Annotated[Viewer, allowed(Action.edit, "environment.update")],
) -> Response:
    values = {**form, "name": name}
    try:
        changes = EnvironmentUpdate.model_validate(
            {**parse_definition(form, include_name=False), "confirm": form.get("confirm") or None}
        )
        with session.begin_nested():
            domain.update_environment(
                session, name, changes, viewer.actor, now=clock.now(), if_match=form.get("etag")
            )
    except (ValidationError, StepladderError) as error:
        environment = domain.require_environment(session, name)
        current = form_values(environment)
        errors, status = form_errors(error)
        loaded, differences = form.get("loaded"), None
        if isinstance(error, PreconditionFailed):
            # Show their change beside yours and take the new version: saving again is a choice.
            values, differences = merge_concurrent_edit(decode_loaded(loaded), current, values)
            errors = {"_form": _conflict_sentence(name, differences)}
            loaded = encode_loaded(current)
        return _definition_form(
            request, viewer, settings, values, errors, creating=False, status=status,
            etag=domain.etag(environment) if differences is not None else form.get("etag"),
            fixed=fixed_while_deployed(environment), loaded=loaded, differences=differences,
        )  # fmt: skip
    return RedirectResponse(f"/environments/{name}?done=saved", status_code=303)


def _conflict_sentence(name: str, differences: list[Difference]) -> str:
    both = [difference.label for difference in differences if difference.both_changed]
    sentence = (
        f"Someone saved a change to {name} after you opened this form, so nothing was saved. "
        "Their change and yours are compared below; fields only they changed now show their "
        "value."
    )
    if both:
        sentence += f" You both changed {', '.join(both)}: the form keeps yours."
    return sentence + " Check the form, then save again to apply it."


@router.post("/environments/{name}/delete")
def delete_environment(
    name: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    form: FormData,
    viewer: Annotated[Viewer, allowed(Action.edit, "environment.delete")],
) -> Response:
    """Delete the definition (nothing deployed): the name typed again, as for a destroy."""
    environment = domain.require_environment(session, name)
    try:
        if form.get("confirm", "").strip() != name:
            raise Conflict(f"Type the environment's name, {name}, to delete its definition.")
        with session.begin_nested():
            domain.delete_environment(session, name, viewer.actor)
    except StepladderError as error:
        return _environment_page(
            request, session, settings, clock, viewer, environment, status=error.status_code,
            delete_error=error.detail,
        )  # fmt: skip
    return RedirectResponse(f"/?done=deleted&name={name}", status_code=303)


@router.get("/environments/{name}")
def environment_page(
    name: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    viewer: PageViewer,
) -> Response:
    environment = domain.require_environment(session, name)
    return _environment_page(request, session, settings, clock, viewer, environment)


def _environment_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    viewer: Viewer,
    environment: Environment,
    *,
    status: int = 200,
    delete_error: str | None = None,
) -> Response:
    name = environment.name
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
        status_code=status,
        environment=described,
        tiers=TIERS,
        architecture=render_svg(resources, name),
        resources=[domain.describe_resource(resource) for resource in resources],
        operations=operations,
        drift=drift_report(session, environment),
        cost=_current_cost(session, settings, environment),
        # Declaring eight tiers takes seconds: only when asked, otherwise what is cached.
        tier_costs={
            cost.tier: cost
            for cost in tier_costs(
                session,
                environment,
                load_price_book(settings.price_file),
                cached_only="estimate_tiers" not in request.query_params,
            )
        },
        not_yet=NOT_YET,
        schedules=[
            describe_schedule(s, environment) for s in list_schedules(session, environment.id)
        ],
        may_operate=viewer.may(Action.operate, name),
        may_destroy=viewer.may(Action.destroy, name),
        may_edit=viewer.may(Action.edit, name, environment.protected),
        needs_approval=needs_approval(environment, OperationKind.promote, viewer.actor),
        kinds=OperationKind,
        now=clock.now(),
        delete_error=delete_error,
        done=request.query_params.get("done"),
    )


def _current_cost(
    session: SessionDep, settings: SettingsDep, environment: Environment
) -> CostEstimatePublic | str | None:
    """The applied tier's estimate, or why there is none (a sentence), or None if undeployed."""
    if environment.applied_tier is None:
        return None
    try:
        book = load_price_book(settings.price_file)
        return describe(estimate_tier(session, environment, environment.applied_tier, book))
    except StepladderError as refusal:
        return refusal.detail


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
    fixed: dict[str, str] | None = None,
    loaded: str | None = None,
    differences: list[Difference] | None = None,
) -> HTMLResponse:
    shown = {field.name: values.get(field.name, display_value(field.default)) for field in FIELDS}
    order = {name: index for index, name in enumerate(["_form", *BY_NAME])}
    # The summary lists the problems in the order of the fields on the page.
    errors = dict(sorted(errors.items(), key=lambda item: order.get(item[0], len(order))))
    return render(
        request,
        "definition_form.html",
        viewer,
        settings,
        status_code=status,
        groups=GROUPS,
        by_name=BY_NAME,
        required_fields=REQUIRED,
        values=shown,
        errors=errors,
        creating=creating,
        etag=etag,
        fixed=fixed or {},
        loaded=loaded,
        differences=differences,
        idempotency_key=uuid.uuid4().hex,
    )
