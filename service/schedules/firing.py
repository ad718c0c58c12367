"""Firing schedules: the clock tick fires every schedule that is due, exactly once, however many
workers tick; a firing does what the schedule says through the normal operations path.

Each due schedule is taken with `FOR UPDATE SKIP LOCKED` and its `next_run_at` moves on in the
same transaction as the operation it requests, so two workers never fire one occurrence twice.
The query reads only what is due (an index on `next_run_at`), not every schedule.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from db.engine import session_scope
from db.models import Environment, OperationKind, Schedule, ScheduleRun
from service.access.domain import Actor
from service.access.roles import Role
from service.costs.prices import PriceBook
from service.errors import Conflict, InvalidInput
from service.notifications.events import notify
from service.notifications.schemas import Event
from service.operations.domain import Enqueue, request_operation
from service.operations.repository import has_pending_from, projected_tier
from service.operations.safety import UnconfirmedDataLoss
from service.schedules import clock, repository

logger = logging.getLogger(__name__)

BATCH = 50
# Firings someone should hear about: the environment did not move as the schedule says.
NOTIFIED = {"refused": Event.schedule_refused, "missed": Event.schedule_missed}


def fire_due_schedules(
    db: Engine, enqueue: Enqueue, engine: str, now: datetime, prices: PriceBook | None = None
) -> list[int]:
    """Fire what is due at `now`; returns the ids of the runs recorded. With `prices`, each
    move's plan carries its monthly estimate, as a person's request does."""
    recorded: list[int] = []
    while True:
        with session_scope(db) as session:
            due = repository.claim_due_schedules(session, now, BATCH)
            for schedule in due:
                run = _fire_occurrence(session, enqueue, schedule, engine, now, prices)
                session.flush()
                assert run.id is not None
                recorded.append(run.id)
                if run.outcome in NOTIFIED:
                    notify(session, NOTIFIED[run.outcome], _run_facts(session, schedule, run))
        if len(due) < BATCH:
            return recorded


def _fire_occurrence(
    session: Session,
    enqueue: Enqueue,
    schedule: Schedule,
    engine: str,
    now: datetime,
    prices: PriceBook | None,
) -> ScheduleRun:
    assert schedule.next_run_at is not None and schedule.id is not None
    occurrence = schedule.next_run_at
    # The next occurrence counts from now: occurrences missed meanwhile are not all replayed.
    schedule.next_run_at = clock.next_occurrence(
        schedule.cron, schedule.timezone, max(occurrence, now)
    )
    session.add(schedule)
    late = now - occurrence
    reason = None
    if in_blackout(schedule, occurrence):
        reason = "blackout date"
    elif schedule.skip_next:
        schedule.skip_next = False
        reason = "skip_next was set"
    elif late > timedelta(minutes=schedule.catch_up_minutes):
        minutes = int(late.total_seconds() // 60)
        run = ScheduleRun(
            schedule_id=schedule.id,
            due_at=occurrence,
            at=now,
            outcome="missed",
            reason=f"{minutes} minutes late, beyond the catch-up window of "
            f"{schedule.catch_up_minutes}",
        )
        session.add(run)
        return run
    if reason is not None:
        run = ScheduleRun(
            schedule_id=schedule.id, due_at=occurrence, at=now, outcome="skipped", reason=reason
        )
        session.add(run)
        return run
    logger.info("firing schedule %s (due %s)", schedule.name, occurrence.isoformat())
    return fire(
        session, enqueue, schedule, engine=engine, now=now, due_at=occurrence, prices=prices
    )


def fire(
    session: Session,
    enqueue: Enqueue,
    schedule: Schedule,
    *,
    engine: str,
    now: datetime,
    due_at: datetime | None,
    manual: bool = False,
    prices: PriceBook | None = None,
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
                prices=prices,
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


def in_blackout(schedule: Schedule, instant: datetime) -> bool:
    day = clock.local_date(instant, schedule.timezone)
    for item in schedule.blackouts:
        days = item if isinstance(item, list) else [item, item]
        start, end = date.fromisoformat(str(days[0])), date.fromisoformat(str(days[-1]))
        if start <= day <= end:
            return True
    return False


def _run_facts(session: Session, schedule: Schedule, run: ScheduleRun) -> dict[str, object]:
    environment = session.get(Environment, schedule.environment_id)
    return {
        "schedule": schedule.name,
        "schedule_id": schedule.id,
        "environment": environment.name if environment else None,
        "due_at": run.due_at.isoformat() if run.due_at else None,
        "outcome": run.outcome,
        "reason": run.reason,
    }
