"""An environment's schedules: the list, a form to add one, and the week ahead as a calendar."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from service.access.domain import record_audit
from service.access.roles import Action
from service.api.deps import SessionDep, SettingsDep
from service.environments.domain import require_environment
from service.errors import StepladderError
from service.operations.planning import SCHEDULABLE_KNOBS
from service.schedules import domain
from service.schedules.schemas import ScheduleCreate
from service.schedules.upcoming import upcoming
from service.web.auth import Viewer, check_form, page_viewer, require
from service.web.environments import FormData
from service.web.forms import form_errors
from service.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/environments/{name}/schedules")
def schedules_page(
    name: str, request: Request, session: SessionDep, settings: SettingsDep
) -> Response:
    viewer = page_viewer(request, session)
    require(session, request, viewer, Action.read, name)
    return _page(request, session, settings, viewer, name, values={}, errors={})


@router.post("/environments/{name}/schedules")
def add_schedule(
    name: str, request: Request, session: SessionDep, settings: SettingsDep, form: FormData
) -> Response:
    viewer = page_viewer(request, session)
    check_form(request, viewer, form.get("csrf_token", ""))
    require(session, request, viewer, Action.operate, name)
    overrides = {knob: form[knob] for knob in SCHEDULABLE_KNOBS if form.get(knob, "").strip()}
    blackouts = [item.strip() for item in form.get("blackouts", "").split(",") if item.strip()]
    body = {
        "name": form.get("name", ""),
        "cron": form.get("cron", ""),
        "timezone": form.get("timezone") or "UTC",
        "action": form.get("action", ""),
        "overrides": overrides,
        "target_tier": form.get("target_tier") or None,
        "blackouts": [item.split("..") if ".." in item else item for item in blackouts],
        "confirm": form.get("confirm") or None,
    }
    try:
        data = ScheduleCreate.model_validate(body)
        domain.create_schedule(
            session, name, data, created_by=viewer.actor.name, now=request.app.state.clock.now()
        )
    except (ValidationError, StepladderError) as error:
        session.rollback()
        errors, status = form_errors(error)
        return _page(request, session, settings, viewer, name, form, errors, status=status)
    record_audit(
        session,
        actor=viewer.actor.name,
        channel="web",
        action="schedule.change",
        outcome="ok",
        environment=name,
        request_id=request.state.request_id,
        detail=f"created schedule '{data.name}' ({data.action}, {data.cron} {data.timezone})",
    )
    return RedirectResponse(f"/environments/{name}/schedules", status_code=303)


def _page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    viewer: Viewer,
    name: str,
    values: dict[str, str],
    errors: dict[str, str],
    status: int = 200,
) -> Response:
    environment = require_environment(session, name)
    listed = domain.list_schedules(session, environment.id)
    now = request.app.state.clock.now()
    week = upcoming(environment, listed, now, 7)
    days: dict[str, list] = defaultdict(list)
    for firing in week.firings:
        days[firing.local[:10]].append(firing)
    calendar = [
        (
            (now + timedelta(days=offset)).date().isoformat(),
            (now + timedelta(days=offset)).strftime("%a"),
        )
        for offset in range(8)
    ]
    return render(
        request,
        "schedules.html",
        viewer,
        settings,
        status_code=status,
        environment=environment,
        schedules=[domain.describe_schedule(schedule, name) for schedule in listed],
        week=week,
        days=days,
        calendar=calendar,
        values=values,
        errors=errors,
        knobs=SCHEDULABLE_KNOBS,
        may_change=viewer.may(Action.operate, name),
    )
