"""An environment's schedules: the list, a form to add one, and the week ahead as a calendar."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from programs import TIERS
from service.access.roles import Action
from service.api.deps import ClockDep, EnqueueDep, SessionDep, SettingsDep
from service.api.params import ScheduleId
from service.costs.prices import load_price_book
from service.costs.week import week_cost
from service.environments.domain import require_environment
from service.errors import StepladderError
from service.schedules import domain, repository
from service.schedules.schemas import ScheduleCreate, ScheduleUpdate
from service.schedules.upcoming import upcoming
from service.web.auth import PageViewer, Viewer, allowed
from service.web.environments import FormData
from service.web.forms import form_errors
from service.web.schedule_calendar import calendar
from service.web.schedule_form import (
    ACTIONS,
    KNOB_LABELS,
    TIMEZONES,
    create_body,
    edit_body,
    format_blackouts,
    next_firings,
)
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
# Shared by both forms and pages: how schedules read.
WORDS = {
    "actions": ACTIONS,
    "knob_labels": KNOB_LABELS,
    "timezones": TIMEZONES,
}


@router.get(PREFIX)
def schedules_page(
    name: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    viewer: PageViewer,
    zone: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    return _page(request, session, settings, clock, viewer, name, values={}, errors={}, zone=zone)


@router.post(PREFIX)
def add_schedule(
    name: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    form: FormData,
    viewer: Scheduler,
) -> Response:
    try:
        data = ScheduleCreate.model_validate(create_body(form))
        with session.begin_nested():
            schedule = domain.create_schedule(session, name, data, viewer.actor, now=clock.now())
    except (ValidationError, StepladderError) as error:
        errors, status = form_errors(error)
        return _page(request, session, settings, clock, viewer, name, form, errors, status=status)
    return RedirectResponse(f"{PREFIX.format(name=name)}?done=created&id={schedule.id}", 303)


@router.get(PREFIX + "/preview")
def preview_firings(
    name: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    viewer: PageViewer,
    cron: Annotated[str, Query(max_length=100)] = "",
    timezone: Annotated[str, Query(max_length=64)] = "UTC",
) -> Response:
    """The next five firings of a cron in a zone, as the forms show them while one types."""
    require_environment(session, name)
    firings, problems = next_firings(cron, timezone, clock.now())
    return render(
        request,
        "schedule_preview.html",
        viewer,
        settings,
        firings=firings,
        problems=problems,
        timezone=timezone,
        now=clock.now(),
    )


@router.get(PREFIX + "/{schedule_id}")
def schedule_page(
    name: str,
    schedule_id: ScheduleId,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    viewer: PageViewer,
) -> Response:
    return _schedule_page(request, session, settings, clock, viewer, name, schedule_id, {}, {})


@router.post(PREFIX + "/{schedule_id}")
def edit_schedule(
    name: str,
    schedule_id: ScheduleId,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    form: FormData,
    viewer: Scheduler,
) -> Response:
    """The edit form, or one of the state buttons (pause, resume, skip the next run)."""
    state = form.get("state")
    body = STATE_CHANGES[state] if state in STATE_CHANGES else edit_body(form)
    try:
        changes = ScheduleUpdate.model_validate(body)
        with session.begin_nested():
            domain.update_schedule(
                session, name, schedule_id, changes, viewer.actor, now=clock.now()
            )
    except (ValidationError, StepladderError) as error:
        errors, status = form_errors(error)
        return _schedule_page(
            request, session, settings, clock, viewer, name, schedule_id, form, errors,
            status=status,
        )  # fmt: skip
    done = state if state in STATE_CHANGES else "saved"
    return RedirectResponse(f"{PREFIX.format(name=name)}/{schedule_id}?done={done}", 303)


@router.post(PREFIX + "/{schedule_id}/delete")
def delete_schedule(
    name: str,
    schedule_id: ScheduleId,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    form: FormData,
    viewer: Scheduler,
) -> Response:
    try:
        schedule_name = domain.require_schedule(session, name, schedule_id).name
        with session.begin_nested():
            domain.delete_schedule(session, name, schedule_id, viewer.actor)
    except StepladderError as error:
        errors = {"_form": error.detail}
        return _schedule_page(
            request, session, settings, clock, viewer, name, schedule_id, form, errors,
            status=error.status_code,
        )  # fmt: skip
    return RedirectResponse(
        f"{PREFIX.format(name=name)}?done=deleted&name={quote(schedule_name)}", status_code=303
    )


@router.post(PREFIX + "/{schedule_id}/run")
def run_now(
    name: str,
    schedule_id: ScheduleId,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
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
                now=clock.now(),
                prices=load_price_book(settings.price_file),
            )
    except StepladderError as error:
        errors = {"_form": error.detail}
        return _schedule_page(
            request, session, settings, clock, viewer, name, schedule_id, form, errors,
            status=error.status_code,
        )  # fmt: skip
    if run.operation_id is not None:
        return RedirectResponse(f"/operations/{run.operation_id}", status_code=303)
    return RedirectResponse(f"{PREFIX.format(name=name)}/{schedule_id}?done=ran", 303)


def _schedule_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
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
    shown = {
        "cron": schedule.cron,
        "timezone": schedule.timezone,
        "blackouts": format_blackouts(schedule.blackouts),
        "catch_up_minutes": str(schedule.catch_up_minutes),
        **{key: value for key, value in values.items() if key != "csrf_token"},
    }
    now = clock.now()
    firings, _ = next_firings(shown["cron"], shown["timezone"], now)
    return render(
        request,
        "schedule.html",
        viewer,
        settings,
        status_code=status,
        environment=environment,
        schedule=domain.describe_schedule(schedule, environment),
        runs=[domain.describe_run(run) for run in repository.list_runs(session, schedule.id, 50)],
        values=shown,
        errors=errors,
        firings=firings,
        now=now,
        may_change=viewer.may(Action.operate, name),
        done=request.query_params.get("done"),
        **WORDS,
    )


def _page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    viewer: Viewer,
    name: str,
    values: dict[str, str],
    errors: dict[str, str],
    status: int = 200,
    zone: str | None = None,
) -> Response:
    environment = require_environment(session, name)
    listed = repository.list_schedules(session, environment.id)
    schedules = [domain.describe_schedule(schedule, environment) for schedule in listed]
    now = clock.now()
    default_zone = environment.business_hours_timezone or "UTC"
    zone = zone if zone in TIMEZONES else (listed[0].timezone if listed else default_zone)
    week = upcoming(environment, listed, now, 7)
    shown = {"timezone": default_zone, "action": "set_capacity", **values}
    firings, _ = next_firings(shown.get("cron", ""), shown["timezone"], now)
    created = request.query_params.get("id")
    return render(
        request,
        "schedules.html",
        viewer,
        settings,
        status_code=status,
        environment=environment,
        schedules=schedules,
        created=next((s for s in schedules if str(s.id) == created), None),
        week=week,
        # Declaring takes seconds: cached declarations only, unless the reader asks.
        week_cost=week_cost(
            session,
            environment,
            week,
            load_price_book(settings.price_file),
            cached_only="estimate_week" not in request.query_params,
        ),
        days=calendar(week, zone, now),
        zone=zone,
        zones=sorted({zone, default_zone, "UTC", *(schedule.timezone for schedule in listed)}),
        values=shown,
        errors=errors,
        firings=firings,
        now=now,
        tiers=TIERS,
        may_change=viewer.may(Action.operate, name),
        done=request.query_params.get("done"),
        **WORDS,
    )
