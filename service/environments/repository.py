"""Queries on environments, their stored resources, and whether their operations are pending.
Routes never build SQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy
from sqlalchemy import ColumnElement, RowMapping, exists, true
from sqlalchemy.orm import Mapped
from sqlmodel import Session, SQLModel, col, delete, select

from db.models import Environment, Operation, Resource
from db.models.operation import PENDING_STATUSES
from service.access.domain import Actor
from service.access.roles import glob_to_like


def get_environment(session: Session, name: str, *, for_update: bool = False) -> Environment | None:
    statement = select(Environment).where(Environment.name == name)
    if for_update:
        # Serializes every request that plans from this environment's state; the row as
        # locked replaces any copy this session read before.
        statement = statement.with_for_update().execution_options(populate_existing=True)
    return session.exec(statement).first()


def get_environment_by_id(
    session: Session, environment_id: int, *, for_update: bool = False
) -> Environment | None:
    statement = select(Environment).where(Environment.id == environment_id)
    if for_update:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    return session.exec(statement).first()


def list_environments(session: Session) -> Sequence[Environment]:
    return session.exec(select(Environment).order_by(col(Environment.name))).all()


def visible_to(actor: Actor) -> ColumnElement[bool]:
    """The environments `actor` may see: those its scope matches (all for an unscoped one)."""
    if actor.scope is None:
        return true()
    return SQLModel.metadata.tables["environments"].c.name.like(glob_to_like(actor.scope))


def list_visible(session: Session, actor: Actor) -> Sequence[Environment]:
    """The environments `actor` may see, by name."""
    return session.exec(
        select(Environment).where(visible_to(actor)).order_by(col(Environment.name))
    ).all()


def list_visible_with_status(session: Session, actor: Actor) -> Sequence[RowMapping]:
    """Every environment `actor` may see: its columns, plus `busy` (an operation is pending) and
    its latest finished operation's `last_status` and `last_error`: one query, as rows rather
    than ORM objects, because the list endpoint only reads them (loading 100 ORM objects and a
    second query for their operations cost more than the rest of the request)."""
    environments = SQLModel.metadata.tables["environments"]
    operations = SQLModel.metadata.tables["operations"]
    pending = [status.value for status in PENDING_STATUSES]
    busy = (
        exists()
        .where(operations.c.environment_id == environments.c.id)
        .where(operations.c.status.in_(pending))
        .label("busy")
    )
    last_finished = (
        sqlalchemy.select(
            operations.c.status.label("last_status"), operations.c.error.label("last_error")
        )
        .where(operations.c.environment_id == environments.c.id)
        .where(operations.c.status.not_in(pending))
        .order_by(operations.c.id.desc())
        .limit(1)
        .lateral("last_finished")
    )
    statement = (
        sqlalchemy.select(
            environments, busy, last_finished.c.last_status, last_finished.c.last_error
        )
        .select_from(environments.outerjoin(last_finished, true()))
        .where(visible_to(actor))
        .order_by(environments.c.name)
    )
    return session.execute(statement).mappings().all()


def list_resources(session: Session, environment_id: int) -> Sequence[Resource]:
    return session.exec(
        select(Resource)
        .where(Resource.environment_id == environment_id)
        .order_by(col(Resource.position))
    ).all()


def replace_resources(session: Session, environment_id: int, resources: list[Resource]) -> None:
    session.exec(delete(Resource).where(col(Resource.environment_id) == environment_id))
    session.add_all(resources)


def claim_next(
    session: Session,
    conditions: Sequence[ColumnElement[bool]],
    order_by: Mapped[Any],
    seen: list[int],
) -> Environment | None:
    """The next environment meeting `conditions` and not in `seen`, locked for this
    transaction and added to `seen`; one another worker holds is skipped, not waited for. How
    the periodic ticks (expiry, drift on an interval) each act once however many workers tick."""
    environment = session.exec(
        select(Environment)
        .where(*conditions, col(Environment.id).not_in(seen))
        .order_by(order_by)
        .limit(1)
        .with_for_update(skip_locked=True)
    ).first()
    if environment is not None:
        assert environment.id is not None
        seen.append(environment.id)
    return environment


def has_pending_operations(session: Session, environment_id: int) -> bool:
    return (
        session.exec(
            select(Operation.id)
            .where(
                Operation.environment_id == environment_id,
                col(Operation.status).in_(PENDING_STATUSES),
            )
            .limit(1)
        ).first()
        is not None
    )


def pending_and_last_finished(
    session: Session, environment_ids: list[int]
) -> tuple[set[int], dict[int, Operation]]:
    """The environments with a pending operation, and each one's latest finished operation:
    one query (the newest operation on each side of "pending", per environment)."""
    pending = col(Operation.status).in_(PENDING_STATUSES)
    rows = session.exec(
        select(Operation)
        .where(col(Operation.environment_id).in_(environment_ids))
        .order_by(col(Operation.environment_id), pending, col(Operation.id).desc())
        .distinct(col(Operation.environment_id), pending)
    ).all()
    busy = {
        row.environment_id for row in rows if row.status in PENDING_STATUSES and row.environment_id
    }
    finished = {
        row.environment_id: row
        for row in rows
        if row.status not in PENDING_STATUSES and row.environment_id is not None
    }
    return busy, finished
