"""Queries on environments and their stored resources. Routes never build SQL."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy
from sqlalchemy import RowMapping, exists, true
from sqlmodel import Session, SQLModel, col, delete, select

from db.models import Environment, Resource
from service.operations.repository import PENDING


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


def list_environments_with_status(session: Session) -> Sequence[RowMapping]:
    """Every environment's columns, plus `busy` (an operation is pending) and its latest
    finished operation's `last_status` and `last_error`: one query, as rows rather than ORM
    objects, because the list endpoint only reads them (loading 100 ORM objects and a second
    query for their operations cost more than the rest of the request)."""
    environments = SQLModel.metadata.tables["environments"]
    operations = SQLModel.metadata.tables["operations"]
    pending = [status.value for status in PENDING]
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
