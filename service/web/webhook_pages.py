"""The webhooks page, for admins: create (secret shown once), list with recent deliveries,
delete. The same audited domain functions as /api/webhooks."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from service.access.roles import Action
from service.api.deps import SessionDep, SettingsDep
from service.errors import StepladderError
from service.notifications import domain
from service.notifications.schemas import Event, WebhookCreate, WebhookCreated, WebhookFormat
from service.notifications.sealing import service_key
from service.web.auth import Viewer, allowed
from service.web.environments import FormData
from service.web.forms import form_errors
from service.web.templating import render

router = APIRouter(include_in_schema=False)
# The API's names, so a refusal is recorded alike on both channels.
WebhookCreator = Annotated[Viewer, allowed(Action.administer, "webhook.create")]
WebhookDeleter = Annotated[Viewer, allowed(Action.administer, "webhook.delete")]
# Each event is a checkbox of its own: `event:<name>`.
EVENT_FIELD = "event:"


@router.get("/webhooks")
def webhooks_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    viewer: Annotated[Viewer, allowed(Action.administer)],
) -> Response:
    return _webhooks(request, session, settings, viewer)


@router.post("/webhooks")
def create_webhook(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    form: FormData,
    viewer: WebhookCreator,
) -> Response:
    body = {
        "name": form.get("name", "").strip(),
        "url": form.get("url", "").strip(),
        "events": [key.removeprefix(EVENT_FIELD) for key in form if key.startswith(EVENT_FIELD)],
        "format": form.get("format", WebhookFormat.json.value),
    }
    try:
        data = WebhookCreate.model_validate(body)
        with session.begin_nested():
            created = domain.create_webhook(session, data, viewer.actor, service_key(settings))
    except (ValidationError, StepladderError) as error:
        errors, status = form_errors(error)
        for field in [field for field in errors if field.startswith("events.")]:
            errors["events"] = errors.pop(field)  # one checkbox group, one message
        return _webhooks(
            request, session, settings, viewer, values=form, errors=errors, status=status
        )
    # The secret is in this response only: stored sealed, never shown again.
    return _webhooks(request, session, settings, viewer, created=created, status=201)


@router.post("/webhooks/{webhook_name}/delete")
def delete_webhook(
    webhook_name: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    form: FormData,
    viewer: WebhookDeleter,
) -> Response:
    try:
        with session.begin_nested():
            domain.delete_webhook(session, webhook_name, viewer.actor)
    except StepladderError as error:
        return _webhooks(
            request, session, settings, viewer, errors={"_form": error.detail},
            status=error.status_code,
        )  # fmt: skip
    return RedirectResponse(f"/webhooks?done=deleted&name={webhook_name}", status_code=303)


def _webhooks(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    viewer: Viewer,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    created: WebhookCreated | None = None,
    status: int = 200,
) -> Response:
    hooks = domain.list_webhooks(session)
    deliveries = {hook.name: domain.list_deliveries(session, hook.name)[:5] for hook in hooks}
    return render(
        request, "webhooks.html", viewer, settings, status_code=status,
        webhooks=hooks, deliveries=deliveries, events=[event.value for event in Event],
        formats=[fmt.value for fmt in WebhookFormat], event_field=EVENT_FIELD,
        values=values or {}, errors=errors or {}, created=created,
        done=request.query_params.get("done"), done_name=request.query_params.get("name"),
    )  # fmt: skip
