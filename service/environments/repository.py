"""Queries on environments and their stored resources. Routes never build SQL."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, delete, select

from db.models import Environment, Resource


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


def list_resources(session: Session, environment_id: int) -> Sequence[Resource]:
    return session.exec(
        select(Resource)
        .where(Resource.environment_id == environment_id)
        .order_by(col(Resource.position))
    ).all()


def replace_resources(session: Session, environment_id: int, resources: list[Resource]) -> None:
    session.exec(delete(Resource).where(col(Resource.environment_id) == environment_id))
    session.add_all(resources)
