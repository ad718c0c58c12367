"""Creating and changing schedules, and what a firing does to an environment."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from db.models import Environment, EnvironmentBase, OperationKind, Schedule, ScheduleRun
from service.access.audit import audited
from service.access.domain import Actor
from service.access.roles import Role
from service.environments.domain import require_environment
from service.environments.schemas import EnvironmentRules
from service.errors import Conflict, InvalidInput, NotFound, describe_validation_errors
from service.operations.domain import Enqueue, request_operation
from service.operations.repository import has_pending_from, projected_tier
from service.operations.safety import (
    UnconfirmedDataLoss,
    check_data_safety,
    moves_down,
    plan_move,
)
from service.schedules import clock
from service.schedules.effect import idle_overrides
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
) -> ScheduleRun:
    """A person fires a schedule by hand: their record, then the schedule's own firing."""
    with audited(session, actor, "schedule.run", environment_name) as entry:
        schedule = require_schedule(session, environment_name, schedule_id, for_update=True)
        run = fire(session, enqueue, schedule, engine=engine, now=now, due_at=None, manual=True)
        session.flush()
        entry.detail = f"schedule '{schedule.name}': {run.outcome}" + (
            f", operation {run.operation_id}" if run.operation_id else f" ({run.reason})"
        )
        return run


def require_schedule(
    session: Session, environment_name: str, schedule_id: int, *, for_update: bool = False
) -> Schedule:
    environment = require_environment(session, environment_name)
    statement = select(Schedule).where(
        Schedule.id == schedule_id, Schedule.environment_id == environment.id
    )
    if for_update:
        statement = statement.with_for_update()
    schedule = session.exec(statement).first()
    if schedule is None:
        raise NotFound(f"'{environment_name}' has no schedule {schedule_id}.")
    return schedule


def list_schedules(session: Session, environment_id: int | None = None) -> Sequence[Schedule]:
    statement = select(Schedule).order_by(col(Schedule.environment_id), col(Schedule.name))
    if environment_id is not None:
        statement = statement.where(Schedule.environment_id == environment_id)
    return session.exec(statement).all()


def list_runs(session: Session, schedule_id: int, limit: int = 100) -> Sequence[ScheduleRun]:
    return session.exec(
        select(ScheduleRun)
        .where(ScheduleRun.schedule_id == schedule_id)
        .order_by(col(ScheduleRun.id).desc())
        .limit(limit)
    ).all()


def fire(
    session: Session,
    enqueue: Enqueue,
    schedule: Schedule,
    *,
    engine: str,
    now: datetime,
    due_at: datetime | None,
    manual: bool = False,
) -> ScheduleRun:
    """Do what the schedule says, through the normal operations path, and record the run."""
    environment = session.get(Environment, schedule.environment_id, with_for_update=True)
    assert environment is not None and environment.id is not None and schedule.id is not None
    actor = Actor(
        name=f"schedule:{schedule.name}", role=Role.operator, scope=None, channel="schedule"
    )
    run = ScheduleRun(
        schedule_id=schedule.id, due_at=due_at, at=now, outcome="fired", manual=manual
    )
    if has_pending_from(session, environment.id, actor.name):
        run.outcome, run.reason = "skipped", "its previous operation is still queued"
        session.add(run)
        return run
    savepoint = session.begin_nested()
    try:
        kind, target, confirm = _apply_layer(session, environment, schedule, now)
        if kind is None:
            run.outcome, run.reason = "skipped", target_reason(environment, schedule)
        else:
            operation = request_operation(
                session,
                enqueue,
                environment_name=environment.name,
                kind=kind,
                engine=engine,
                target_tier=target,
                confirm=confirm,
                confirmed_loss=schedule.confirmed_data_loss,
                requested_by=actor,
                audited_as=f"schedule.{schedule.action}",
            )
            run.operation_id = operation.id
        savepoint.commit()
    except UnconfirmedDataLoss as error:
        savepoint.rollback()
        run.outcome, run.reason = "refused", error.detail
    except (Conflict, InvalidInput) as error:
        savepoint.rollback()
        run.outcome, run.reason = "failed", error.detail
    # request_operation wrote the audit record of the firing, fired or failed alike.
    session.add(run)
    return run


def target_reason(environment: Environment, schedule: Schedule) -> str:
    if environment.applied_tier is None:
        return "the environment is not deployed"
    return "nothing to change"


def _apply_layer(
    session: Session, environment: Environment, schedule: Schedule, now: datetime
) -> tuple[OperationKind | None, int | None, str | None]:
    """Change the schedule layer; returns the operation that carries it out:
    (kind, target tier, confirmation), or a None kind when there is nothing to do."""
    confirm = environment.name if schedule.confirmed else None
    if environment.applied_tier is None and schedule.action != "set_tier":
        return None, None, None
    if schedule.action == "set_capacity":
        environment.capacity_overrides = {**environment.capacity_overrides, **schedule.overrides}
        _mark(environment, schedule.name, now)
        return OperationKind.apply, None, None
    if schedule.action == "set_tier":
        assert environment.id is not None
        current = projected_tier(session, environment.id, environment.applied_tier)
        if current == schedule.target_tier:
            return None, None, None
        if environment.tier_before_schedule is None:
            environment.tier_before_schedule = current
        _mark(environment, schedule.name, now)
        return OperationKind.set_tier, schedule.target_tier, confirm
    # restore: back to the definition, and to the tier from before the scheduled moves.
    back_to = environment.tier_before_schedule
    environment.capacity_overrides = {}
    environment.tier_before_schedule = None
    environment.overridden_by = None
    environment.overridden_since = None
    session.add(environment)
    if back_to is not None and back_to != environment.applied_tier:
        return OperationKind.set_tier, back_to, confirm
    return OperationKind.apply, None, None


def _mark(environment: Environment, schedule_name: str, now: datetime) -> None:
    environment.overridden_by = schedule_name
    environment.overridden_since = now


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


def in_blackout(schedule: Schedule, instant: datetime) -> bool:
    day = clock.local_date(instant, schedule.timezone)
    for item in schedule.blackouts:
        days = item if isinstance(item, list) else [item, item]
        start, end = date.fromisoformat(str(days[0])), date.fromisoformat(str(days[-1]))
        if start <= day <= end:
            return True
    return False


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
