"""Authentication, authorization and audit for every route, as one dependency.

`Permission(action)` finds the caller from the bearer token, checks role, scope and protection
for the environment named in the path, and writes the audit record: in the request's own
transaction when the change succeeds, in a transaction of its own when it is denied or fails
(so the record survives the rollback).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Annotated
from urllib.parse import urlparse

from fastapi import Depends, Request
from sqlmodel import Session

from db.engine import session_scope
from db.models import WebSession
from service.access import request_safety
from service.access.domain import Actor, Forbidden, Unauthenticated, authenticate, record_audit
from service.access.roles import Action, refusal
from service.access.sessions import COOKIE_NAME, session_actor
from service.api.deps import SessionDep
from service.environments import repository as environments
from service.errors import StepladderError

logger = logging.getLogger(__name__)


@dataclass
class Guard:
    action: Action
    audited_as: str | None
    request_id: str
    environment: str | None
    actor: Actor | None = None
    detail: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def require(self, session: Session, environment: str) -> None:
        """Authorize for an environment known only after parsing the body (create)."""
        assert self.actor is not None
        self.environment = environment
        _authorize(session, self.actor, self.action, environment)


class Permission:
    def __init__(self, action: Action, audited_as: str | None = None) -> None:
        self.action = action
        self.audited_as = audited_as

    def __call__(self, request: Request, session: SessionDep) -> Iterator[Guard]:
        guard = Guard(
            action=self.action,
            audited_as=self.audited_as,
            request_id=request.state.request_id,
            environment=request.path_params.get("name"),
        )
        try:
            guard.actor, _ = authenticate_request(request, session)
            _authorize(session, guard.actor, self.action, guard.environment)
            self.admit(request, guard)
            yield guard
            if self.audited_as:
                _record(session, guard, "ok")
        except StepladderError as error:
            # Every refusal of a known caller is recorded, reads included; anonymous knocking
            # and failures only where the route changes state, so probes cannot flood the log.
            denied = isinstance(error, Unauthenticated | Forbidden)
            if self.audited_as or (denied and guard.actor is not None):
                guard.detail = (
                    guard.detail or f"{request.method} {request.url.path}: {error.detail}"
                )
                with session_scope(request.app.state.db_engine) as separate:
                    _record(separate, guard, "denied" if denied else "failed")
            raise

    def admit(self, request: Request, guard: Guard) -> None:
        """Further checks once the caller is known and allowed (see RateLimited)."""


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def identify(request: Request, session: Session) -> tuple[Actor, WebSession | None]:
    """The caller: a bearer token first, else the browser's session cookie."""
    bearer = _bearer(request)
    if bearer:
        return authenticate(session, bearer), None
    cookie = request.cookies.get(COOKIE_NAME)
    if cookie:
        return session_actor(session, cookie)
    raise Unauthenticated("Send a token ('Authorization: Bearer <token>') or log in at /login.")


def authenticate_request(request: Request, session: Session) -> tuple[Actor, WebSession | None]:
    """The caller, and for a change from a browser session, its origin and CSRF token checked."""
    actor, web_session = identify(request, session)
    if web_session is not None and request.method not in SAFE_METHODS:
        require_same_origin(request)
        if request.headers.get("x-csrf-token") != web_session.csrf_token:
            raise Forbidden("A change from a browser session needs its X-CSRF-Token.")
    return actor, web_session


def require_same_origin(request: Request) -> None:
    """A browser says where a request comes from; another site may not change anything here."""
    origin = request.headers.get("origin")
    if origin and urlparse(origin).netloc != request.url.netloc:
        raise Forbidden(f"Requests from {origin} may not change anything here.")


def _authorize(session: Session, actor: Actor, action: Action, environment: str | None) -> None:
    protected = False
    if environment is not None and action.environment_bound:
        found = environments.get_environment(session, environment)
        protected = bool(found and found.protected)
    reason = refusal(actor.role, actor.scope, action, environment, protected)
    if reason is not None:
        raise Forbidden(f"Not allowed: {reason}.")


def _record(session: Session, guard: Guard, outcome: str) -> None:
    record_audit(
        session,
        actor=guard.actor.name if guard.actor else "anonymous",
        channel=guard.actor.channel if guard.actor else "api",
        action=guard.audited_as or guard.action.value,
        outcome=outcome,
        environment=guard.environment,
        request_id=guard.request_id,
        detail=guard.detail,
    )


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


class RateLimited(Permission):
    """A permission that also counts the caller's requests: operation-creating routes."""

    def admit(self, request: Request, guard: Guard) -> None:
        assert guard.actor is not None
        request_safety.enforce_rate_limit(
            request.app.state.db_engine,
            guard.actor.name,
            request.app.state.settings.rate_limit_per_minute,
        )


Reader = Annotated[Guard, Depends(Permission(Action.read), scope="function")]
