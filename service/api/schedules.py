"""Schedules of an environment, their runs and the week ahead; and every schedule."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from service.access.roles import Action
from service.api.deps import ClockDep, EnqueueDep, SessionDep, SettingsDep
from service.api.guard import Guard, Permission, RateLimited, Reader
from service.api.params import EnvironmentName, ScheduleId
from service.api.responses import EVERY_ROUTE, JSON_BODY, NO_BODY, errors, rate_limited
from service.costs.prices import load_price_book
from service.environments import repository as environments
from service.environments.domain import require_environment
from service.schedules import domain, repository
from service.schedules.schemas import (
    ScheduleCreate,
    SchedulePublic,
    ScheduleRunPublic,
    ScheduleUpdate,
    Upcoming,
)
from service.schedules.upcoming import upcoming

router = APIRouter(tags=["schedules"], responses=EVERY_ROUTE)
PREFIX = "/api/environments/{name}/schedules"

Scheduler = Annotated[
    Guard, Depends(Permission(Action.operate, "schedule.change"), scope="function")
]
ScheduleRunner = Annotated[
    Guard, Depends(RateLimited(Action.operate, "schedule.run"), scope="function")
]


@router.get("/api/schedules", name="list_all")
def list_all_schedules(session: SessionDep, guard: Reader) -> list[SchedulePublic]:
    visible = {
        environment.id: environment
        for environment in environments.list_visible(session, guard.actor)
    }
    return [
        domain.describe_schedule(schedule, visible[schedule.environment_id])
        for schedule in repository.list_schedules(session)
        if schedule.environment_id in visible
    ]


@router.get(PREFIX, name="list", responses=errors(404))
def list_schedules(name: EnvironmentName, session: SessionDep, _: Reader) -> list[SchedulePublic]:
    environment = require_environment(session, name)
    return [
        domain.describe_schedule(schedule, environment)
        for schedule in repository.list_schedules(session, environment.id)
    ]


@router.post(
    PREFIX,
    name="create",
    status_code=status.HTTP_201_CREATED,
    responses={**JSON_BODY, **errors(404, 409)},
)
def create_schedule(
    name: EnvironmentName,
    data: ScheduleCreate,
    session: SessionDep,
    clock: ClockDep,
    guard: Scheduler,
) -> SchedulePublic:
    schedule = domain.create_schedule(session, name, data, guard.actor, now=clock.now())
    return domain.describe_schedule(schedule, require_environment(session, name))


@router.get(PREFIX + "/upcoming", name="upcoming", responses=errors(404))
def upcoming_firings(
    name: EnvironmentName,
    session: SessionDep,
    clock: ClockDep,
    _: Reader,
    days: int = Query(default=7, ge=1, le=31),
) -> Upcoming:
    environment = require_environment(session, name)
    return upcoming(
        environment, repository.list_schedules(session, environment.id), clock.now(), days
    )


@router.get(PREFIX + "/{schedule_id}", name="get", responses=errors(404))
def get_schedule(
    name: EnvironmentName, schedule_id: ScheduleId, session: SessionDep, _: Reader
) -> SchedulePublic:
    schedule = domain.require_schedule(session, name, schedule_id)
    return domain.describe_schedule(schedule, require_environment(session, name))


@router.patch(PREFIX + "/{schedule_id}", name="update", responses={**JSON_BODY, **errors(404, 409)})
def update_schedule(
    name: EnvironmentName,
    schedule_id: ScheduleId,
    changes: ScheduleUpdate,
    session: SessionDep,
    clock: ClockDep,
    guard: Scheduler,
) -> SchedulePublic:
    schedule = domain.update_schedule(
        session, name, schedule_id, changes, guard.actor, now=clock.now()
    )
    return domain.describe_schedule(schedule, require_environment(session, name))


@router.delete(
    PREFIX + "/{schedule_id}",
    name="delete",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=errors(404, 409),
)
def delete_schedule(
    name: EnvironmentName, schedule_id: ScheduleId, session: SessionDep, guard: Scheduler
) -> None:
    domain.delete_schedule(session, name, schedule_id, guard.actor)


@router.get(PREFIX + "/{schedule_id}/runs", name="list_runs", responses=errors(404))
def list_runs(
    name: EnvironmentName, schedule_id: ScheduleId, session: SessionDep, _: Reader
) -> list[ScheduleRunPublic]:
    schedule = domain.require_schedule(session, name, schedule_id)
    assert schedule.id is not None
    return [domain.describe_run(run) for run in repository.list_runs(session, schedule.id)]


@router.post(
    PREFIX + "/{schedule_id}/run",
    name="run_now",
    status_code=status.HTTP_202_ACCEPTED,
    responses={**NO_BODY, **errors(404, 409), **rate_limited(202)},
)
def run_now(
    name: EnvironmentName,
    schedule_id: ScheduleId,
    session: SessionDep,
    settings: SettingsDep,
    enqueue: EnqueueDep,
    clock: ClockDep,
    guard: ScheduleRunner,
) -> ScheduleRunPublic:
    run = domain.run_schedule_now(
        session,
        enqueue,
        name,
        schedule_id,
        engine=settings.engine,
        actor=guard.actor,
        prices=load_price_book(settings.price_file),
        now=clock.now(),
    )
    return domain.describe_run(run)
