"""Typed dependencies shared by the routes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from db.engine import session_scope
from service.clock import Clock
from service.config import Settings
from service.operations.domain import Enqueue


def get_session(request: Request) -> Iterator[Session]:
    """The request's unit of work: the one place that commits (before the response is sent)."""
    with session_scope(request.app.state.db_engine) as session:
        yield session


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


def get_enqueue(request: Request) -> Enqueue:
    enqueue: Enqueue = request.app.state.enqueue
    return enqueue


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings)]
EnqueueDep = Annotated[Enqueue, Depends(get_enqueue)]
ClockDep = Annotated[Clock, Depends(get_clock)]
