"""Creating, changing and describing schedules, and firing one by hand."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from db.models import Environment, EnvironmentBase, OperationKind, Schedule, ScheduleRun
from service.access.audit import audited
from service.access.domain import Actor
from service.costs.prices import PriceBook
from service.environments.domain import require_environment
from service.environments.schemas import EnvironmentRules
from service.errors import Conflict, InvalidInput, NotFound, describe_validation_errors
from service.operations.domain import Enqueue
from service.operations.safety import (
    check_data_safety,
    moves_down,
    plan_move,
)
from service.schedules import clock, repository
from service.schedules.effect import idle_overrides
from service.schedules.firing import fire
from service.schedules.schemas import (
    ScheduleCreate,
    SchedulePublic,
    ScheduleRunPublic,
    ScheduleUpdate,
)


def create_schedule(
    session: Session, environment_name: str, data: ScheduleCreate, actor: Actor, now: datetime
) -> Schedule:
    with audited(session, actor, "schedule.create", environment_name) as entry:
        entry.detail = f"schedule '{data.name}' ({data.action}, {data.cron} {data.timezone})"
        return _create(session, environment_name, data, actor.name, now)


def _create(
    session: Session, environment_name: str, data: ScheduleCreate, created_by: str, now: datetime
) -> Schedule:
    if data.action == "set_tier":  # plan first, holding no lock: declaring can take seconds
        _check_scheduled_move(
            session, require_environment(session, environment_name), data.target_tier, data.confirm
        )
    environment = require_environment(session, environment_name, for_update=True)
    assert environment.id is not None
    if data.action == "set_capacity":
        _check_overrides(environment, data.overrides)
    confirmed_loss: list[dict[str, Any]] = []
    if data.action == "set_tier":
        confirmed_loss = _check_scheduled_move(
            session, environment, data.target_tier, data.confirm, cached_only=True
        )
    schedule = Schedule(
        environment_id=environment.id,
        name=data.name,
        cron=data.cron,
        timezone=data.timezone,
        action=data.action,
        overrides=data.overrides,
        target_tier=data.target_tier,
        confirmed=bool(confirmed_loss),
        confirmed_data_loss=confirmed_loss,
        enabled=data.enabled,
        blackouts=data.blackouts,
        catch_up_minutes=data.catch_up_minutes,
        created_by=created_by,
        next_run_at=clock.next_occurrence(data.cron, data.timezone, now),
    )
    session.add(schedule)
    try:
        session.flush()
    except IntegrityError as error:
        raise Conflict(
            f"'{environment_name}' already has a schedule named '{data.name}'."
        ) from error
    return schedule


def update_schedule(
    session: Session,
    environment_name: str,
    schedule_id: int,
    changes: ScheduleUpdate,
    actor: Actor,
    now: datetime,
) -> Schedule:
    with audited(session, actor, "schedule.update", environment_name) as entry:
        entry.detail = f"schedule {schedule_id}: " + ", ".join(
            sorted(changes.model_dump(exclude_unset=True))
        )
        schedule = require_schedule(session, environment_name, schedule_id, for_update=True)
        _update(schedule, changes, now)
        session.add(schedule)
        return schedule


def _update(schedule: Schedule, changes: ScheduleUpdate, now: datetime) -> None:
    for field, value in changes.model_dump(exclude_unset=True).items():
        if value is not None:
            setattr(schedule, field, value)
    # A new cron, zone or a resume counts from now: what was missed while paused is not due.
    schedule.next_run_at = clock.next_occurrence(schedule.cron, schedule.timezone, now)


def delete_schedule(
    session: Session, environment_name: str, schedule_id: int, actor: Actor
) -> None:
    with audited(session, actor, "schedule.delete", environment_name) as entry:
        schedule = require_schedule(session, environment_name, schedule_id, for_update=True)
        entry.detail = f"schedule '{schedule.name}'"
        session.delete(schedule)


def run_schedule_now(
    session: Session,
    enqueue: Enqueue,
    environment_name: str,
    schedule_id: int,
    *,
    engine: str,
    actor: Actor,
    now: datetime,
    prices: PriceBook | None = None,
) -> ScheduleRun:
    """A person fires a schedule by hand: their record, then the schedule's own firing."""
    with audited(session, actor, "schedule.run", environment_name) as entry:
        schedule = require_schedule(session, environment_name, schedule_id, for_update=True)
        run = fire(
            session, enqueue, schedule,
            engine=engine, now=now, due_at=None, manual=True, prices=prices,
        )  # fmt: skip
        session.flush()
        entry.detail = f"schedule '{schedule.name}': {run.outcome}" + (
            f", operation {run.operation_id}" if run.operation_id else f" ({run.reason})"
        )
        return run


def require_schedule(
    session: Session, environment_name: str, schedule_id: int, *, for_update: bool = False
) -> Schedule:
    environment = require_environment(session, environment_name)
    assert environment.id is not None
    schedule = repository.get_schedule(session, environment.id, schedule_id, for_update=for_update)
    if schedule is None:
        raise NotFound(f"'{environment_name}' has no schedule {schedule_id}.")
    return schedule


def _check_overrides(environment: Environment, overrides: dict[str, int]) -> None:
    current = {field: getattr(environment, field) for field in EnvironmentBase.model_fields}
    try:
        EnvironmentRules.model_validate({**current, **overrides})
    except ValidationError as error:
        fields = [
            {"field": f"overrides.{item['field']}", "rule": item["rule"]}
            for item in describe_validation_errors(list(error.errors()))
        ]
        raise InvalidInput.from_fields(fields) from error


def _check_scheduled_move(
    session: Session,
    environment: Environment,
    target: int | None,
    confirm: str | None,
    *,
    cached_only: bool = False,
) -> list[dict[str, Any]]:
    """A scheduled move that deletes data needs confirmation now, and no protection, ever.
    Returns the data loss confirmed: all a firing may ever delete."""
    assert target is not None
    from_tier = environment.applied_tier
    if not moves_down(OperationKind.set_tier, from_tier, target):
        return []
    plan = plan_move(
        session, environment, OperationKind.set_tier, from_tier, target, cached_only=cached_only
    )
    if plan.data_loss and environment.protected:
        raise Conflict(
            f"'{environment.name}' is protected: no schedule may delete its data "
            f"({', '.join(item['name'] for item in plan.data_loss)}).",
            data_loss=plan.data_loss,
        )
    check_data_safety(environment, plan.data_loss, confirm)
    return plan.data_loss


def describe_schedule(schedule: Schedule, environment: Environment) -> SchedulePublic:
    assert schedule.id is not None
    local = (
        schedule.next_run_at.astimezone(ZoneInfo(schedule.timezone)).isoformat()
        if schedule.next_run_at
        else None
    )
    data: dict[str, Any] = schedule.model_dump()
    return SchedulePublic(
        **data,
        environment=environment.name,
        next_run_local=local,
        idle_overrides=idle_overrides(
            schedule.action, schedule.overrides, environment.applied_tier
        ),
    )


def describe_run(run: ScheduleRun) -> ScheduleRunPublic:
    assert run.id is not None
    return ScheduleRunPublic(**run.model_dump())
