"""Queries on schedules and their runs. Routes never build SQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from db.models import Schedule, ScheduleRun


def get_schedule(
    session: Session, environment_id: int, schedule_id: int, *, for_update: bool = False
) -> Schedule | None:
    statement = select(Schedule).where(
        Schedule.id == schedule_id, Schedule.environment_id == environment_id
    )
    if for_update:
        statement = statement.with_for_update()
    return session.exec(statement).first()


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


def claim_due_schedules(session: Session, now: datetime, limit: int) -> Sequence[Schedule]:
    """The enabled schedules due at `now`, oldest first, locked; those another worker holds
    are skipped, so no two workers fire one occurrence."""
    return session.exec(
        select(Schedule)
        .where(Schedule.enabled, col(Schedule.next_run_at) <= now)
        .order_by(col(Schedule.next_run_at))
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
