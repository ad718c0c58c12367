"""An environment's schedules: the list, a form to add one, and the week ahead as a calendar."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from service.access.roles import Action
from service.api.deps import EnqueueDep, SessionDep, SettingsDep
from service.api.params import ScheduleId
from service.environments.domain import require_environment
from service.errors import StepladderError
from service.operations.planning import SCHEDULABLE_KNOBS
from service.schedules import domain
from service.schedules.schemas import ScheduleCreate, ScheduleUpdate
from service.schedules.upcoming import upcoming
from service.web.auth import PageViewer, Viewer, allowed
from service.web.environments import FormData
from service.web.forms import form_errors
from service.web.templating import render

router = APIRouter(include_in_schema=False)
Scheduler = Annotated[Viewer, allowed(Action.operate, "schedule.change")]
PREFIX = "/environments/{name}/schedules"
# What each state button sends as the API's PATCH body.
STATE_CHANGES: dict[str, dict[str, Any]] = {
    "pause": {"enabled": False},
    "resume": {"enabled": True},
    "skip_next": {"skip_next": True},
    "unskip": {"skip_next": False},
}


@router.get(PREFIX)
def schedules_page(
    name: str, request: Request, session: SessionDep, settings: SettingsDep, viewer: PageViewer
) -> Response:
    return _page(request, session, settings, viewer, name, values={}, errors={})


@router.post(PREFIX)
def add_schedule(
    name: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    form: FormData,
    viewer: Scheduler,
) -> Response:
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
        with session.begin_nested():
            domain.create_schedule(
                session, name, data, viewer.actor, now=request.app.state.clock.now()
            )
    except (ValidationError, StepladderError) as error:
        errors, status = form_errors(error)
        return _page(request, session, settings, viewer, name, form, errors, status=status)
    return RedirectResponse(f"/environments/{name}/schedules?done=created", status_code=303)


@router.get(PREFIX + "/{schedule_id}")
def schedule_page(
    name: str,
    schedule_id: ScheduleId,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    viewer: PageViewer,
) -> Response:
    return _schedule_page(request, session, settings, viewer, name, schedule_id, {}, {})


@router.post(PREFIX + "/{schedule_id}")
def edit_schedule(
    name: str,
    schedule_id: ScheduleId,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    form: FormData,
    viewer: Scheduler,
) -> Response:
    """The edit form, or one of the state buttons (pause, resume, skip the next run)."""
    state = form.get("state")
    if state in STATE_CHANGES:
        body: dict[str, Any] = STATE_CHANGES[state]
    else:
        blackouts = [item.strip() for item in form.get("blackouts", "").split(",") if item.strip()]
        body = {
            "cron": form.get("cron", ""),
            "timezone": form.get("timezone") or "UTC",
            "blackouts": [item.split("..") if ".." in item else item for item in blackouts],
            "catch_up_minutes": form.get("catch_up_minutes") or None,
        }
    try:
        changes = ScheduleUpdate.model_validate(body)
        with session.begin_nested():
            domain.update_schedule(
                session, name, schedule_id, changes, viewer.actor, now=request.app.state.clock.now()
            )
    except (ValidationError, StepladderError) as error:
        errors, status = form_errors(error)
        return _schedule_page(
            request, session, settings, viewer, name, schedule_id, form, errors, status=status
        )
    done = state if state in STATE_CHANGES else "saved"
    return RedirectResponse(f"/environments/{name}/schedules/{schedule_id}?done={done}", 303)


@router.post(PREFIX + "/{schedule_id}/delete")
def delete_schedule(
    name: str,
    schedule_id: ScheduleId,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    form: FormData,
    viewer: Scheduler,
) -> Response:
    try:
        with session.begin_nested():
            domain.delete_schedule(session, name, schedule_id, viewer.actor)
    except StepladderError as error:
        errors = {"_form": error.detail}
        return _schedule_page(
            request, session, settings, viewer, name, schedule_id, form, errors,
            status=error.status_code,
        )  # fmt: skip
    return RedirectResponse(f"/environments/{name}/schedules?done=deleted", status_code=303)


@router.post(PREFIX + "/{schedule_id}/run")
def run_now(
    name: str,
    schedule_id: ScheduleId,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    enqueue: EnqueueDep,
    form: FormData,
    viewer: Annotated[Viewer, allowed(Action.operate, "schedule.run", rate_limited=True)],
) -> Response:
    try:
        with session.begin_nested():
            run = domain.run_schedule_now(
                session,
                enqueue,
                name,
                schedule_id,
                engine=settings.engine,
                actor=viewer.actor,
                now=request.app.state.clock.now(),
            )
    except StepladderError as error:
        errors = {"_form": error.detail}
        return _schedule_page(
            request, session, settings, viewer, name, schedule_id, form, errors,
            status=error.status_code,
        )  # fmt: skip
    if run.operation_id is not None:
        return RedirectResponse(f"/operations/{run.operation_id}", status_code=303)
    return RedirectResponse(f"/environments/{name}/schedules/{schedule_id}?done=ran", 303)


def _schedule_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    viewer: Viewer,
    name: str,
    schedule_id: int,
    values: dict[str, str],
    errors: dict[str, str],
    status: int = 200,
) -> Response:
    environment = require_environment(session, name)
    schedule = domain.require_schedule(session, name, schedule_id)
    assert schedule.id is not None
    described = domain.describe_schedule(schedule, name)
    shown = {
        "cron": schedule.cron,
        "timezone": schedule.timezone,
        "blackouts": ", ".join(
            "..".join(item) if isinstance(item, list) else str(item) for item in schedule.blackouts
        ),
        "catch_up_minutes": str(schedule.catch_up_minutes),
        **{key: value for key, value in values.items() if key != "csrf_token"},
    }
    return render(
        request,
        "schedule.html",
        viewer,
        settings,
        status_code=status,
        environment=environment,
        schedule=described,
        runs=[domain.describe_run(run) for run in domain.list_runs(session, schedule.id, 50)],
        values=shown,
        errors=errors,
        may_change=viewer.may(Action.operate, name),
        done=request.query_params.get("done"),
    )


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
        done=request.query_params.get("done"),
    )
