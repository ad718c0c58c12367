"""Database engine and session setup."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlmodel import Session, create_engine


def sqlalchemy_url(database_url: str) -> str:
    """`postgresql://...` as SQLAlchemy wants it: with the psycopg (3) driver named."""
    url = make_url(database_url)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


def libpq_url(database_url: str) -> str:
    """The same URL as libpq (psycopg, procrastinate) wants it: without a driver name."""
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def create_db_engine(database_url: str, *, pool_size: int = 10) -> Engine:
    return create_engine(
        sqlalchemy_url(database_url),
        pool_pre_ping=True,
        pool_size=pool_size,
        max_overflow=pool_size,
    )


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits when the block succeeds and rolls back when it raises."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
