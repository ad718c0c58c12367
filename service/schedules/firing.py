"""The clock tick: fire every schedule that is due, exactly once, however many workers tick.

Each due schedule is taken with `FOR UPDATE SKIP LOCKED` and its `next_run_at` moves on in the
same transaction as the operation it requests, so two workers never fire one occurrence twice.
The query reads only what is due (an index on `next_run_at`), not every schedule.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from db.engine import session_scope
from db.models import Environment, Schedule, ScheduleRun
from service.notifications.events import notify
from service.notifications.schemas import Event
from service.operations.domain import Enqueue
from service.schedules import clock
from service.schedules.domain import fire, in_blackout

logger = logging.getLogger(__name__)

BATCH = 50
# Firings someone should hear about: the environment did not move as the schedule says.
NOTIFIED = {"refused": Event.schedule_refused, "missed": Event.schedule_missed}


def fire_due_schedules(db: Engine, enqueue: Enqueue, engine: str, now: datetime) -> list[int]:
    """Fire what is due at `now`; returns the ids of the runs recorded."""
    recorded: list[int] = []
    while True:
        with session_scope(db) as session:
            due = session.exec(
                select(Schedule)
                .where(Schedule.enabled, col(Schedule.next_run_at) <= now)
                .order_by(col(Schedule.next_run_at))
                .limit(BATCH)
                .with_for_update(skip_locked=True)
            ).all()
            for schedule in due:
                run = _fire_occurrence(session, enqueue, schedule, engine, now)
                session.flush()
                assert run.id is not None
                recorded.append(run.id)
                if run.outcome in NOTIFIED:
                    notify(session, NOTIFIED[run.outcome], _run_facts(session, schedule, run))
        if len(due) < BATCH:
            return recorded


def _fire_occurrence(
    session: Session, enqueue: Enqueue, schedule: Schedule, engine: str, now: datetime
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
    return fire(session, enqueue, schedule, engine=engine, now=now, due_at=occurrence)


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
