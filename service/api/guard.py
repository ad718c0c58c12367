"""Who is asking, and may they: one dependency for the API and the pages.

`Permission(action)` finds the caller from a bearer token or the browser's session cookie,
checks the CSRF token of a session's changes (header or form field), and checks role, scope and
protection for the environment named in the path. Refusals are recorded here; the record of a
change itself is written by the domain function that makes it (see `service.access.audit`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlparse

from fastapi import Depends, Request, Response
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from db.models import WebSession
from service.access import request_safety
from service.access.audit import record_refusal
from service.access.domain import Actor, Forbidden, Unauthenticated, authenticate
from service.access.roles import Action, Role, refusal
from service.access.sessions import session_actor
from service.api.deps import SessionDep
from service.api.login_attempts import record_failed_login, refuse_if_throttled
from service.environments import repository as environments
from service.errors import StepladderError
from service.http_security import transport
from service.http_security.transport import session_cookie_name

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

# The two ways in, declared so the OpenAPI description says how to authenticate (Swagger UI's
# Authorize, generated clients); `identify` reads the same header and cookie.
BEARER = HTTPBearer(
    scheme_name="bearer",
    description="An API token (`stepladder token create`, or Tokens in the web form), sent as "
    "`Authorization: Bearer <token>`.",
    auto_error=False,
)
SESSION_COOKIE = APIKeyCookie(
    name=transport.SESSION_COOKIE,
    scheme_name="session",
    description="The web form's session, set by logging in at /login; over HTTPS it is named "
    f"`{transport.SECURE_SESSION_COOKIE}`. A change made with it also sends the session's CSRF "
    "token in `X-CSRF-Token`.",
    auto_error=False,
)


@dataclass
class Guard:
    """The caller, allowed to do `action`; pages also use it to show only what it may do."""

    action: Action
    audited_as: str | None
    actor: Actor
    web_session: WebSession | None = None

    @property
    def csrf_token(self) -> str:
        return self.web_session.csrf_token if self.web_session else ""

    def may(self, action: Action, environment: str | None = None, protected: bool = False) -> bool:
        return refusal(self.actor.role, self.actor.scope, action, environment, protected) is None

    def require(
        self, session: Session, environment: str | None, action: Action | None = None
    ) -> None:
        """Authorize for an environment known only after parsing (a body, an operation), or
        for a further action the request turned out to need (a destroy)."""
        action = action or self.action
        try:
            authorize(session, self.actor, action, environment)
        except Forbidden as error:
            record_refusal(
                session, self.actor, self.audited_as or action.value, environment, error.detail
            )
            raise


class Permission:
    def __init__(self, action: Action, audited_as: str | None = None) -> None:
        self.action = action
        self.audited_as = audited_as

    def __call__(
        self,
        request: Request,
        response: Response,
        session: SessionDep,
        csrf_field: Annotated[str | None, Depends(submitted_csrf_field)],
        # Declared for the description only: `identify` reads the header and the cookie.
        _bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)],
        _session_cookie: Annotated[str | None, Depends(SESSION_COOKIE)],
    ) -> Guard:
        return self.check(request, response, session, csrf_field)

    def check(
        self, request: Request, response: Response, session: Session, csrf_field: str | None
    ) -> Guard:
        environment = request.path_params.get("name")
        # Only an attempted change by a stranger is worth a record; anonymous reads of pages
        # would let anyone flood the append-only log.
        changing = bool(self.audited_as) and request.method not in SAFE_METHODS
        actor, web_session = identify(request, session, changing=changing)
        guard = Guard(self.action, self.audited_as, actor, web_session)
        try:
            check_csrf(request, web_session, csrf_field)
            authorize(session, actor, self.action, environment)
            self.admit(request, response, guard)
        except StepladderError as error:
            detail = f"{request.method} {request.url.path}: {error.detail}"
            record_refusal(
                session, actor, self.audited_as or self.action.value, environment, detail
            )
            raise
        return guard

    def admit(self, request: Request, response: Response, guard: Guard) -> None:
        """Further checks once the caller is known and allowed (see RateLimited)."""


async def submitted_csrf_field(request: Request) -> str | None:
    """A form's `csrf_token` field (a browser form cannot set headers)."""
    if request.method in SAFE_METHODS:
        return None
    if not request.headers.get("content-type", "").startswith(FORM_TYPES):
        return None
    value = (await request.form()).get("csrf_token")
    return value if isinstance(value, str) else None


def identify(
    request: Request, session: Session, *, changing: bool = False
) -> tuple[Actor, WebSession | None]:
    """The caller: a bearer token first, else the browser's session cookie. A wrong token is a
    failed login, audited and throttled by address; so is any token from an address past its
    allowance, before it is looked at."""
    web_session = None
    bearer = _bearer(request)
    try:
        cookie = request.cookies.get(session_cookie_name(request.scope))
        if bearer:
            refuse_if_throttled(request, session)
            actor = authenticate(session, bearer)
        elif cookie:
            actor, web_session = session_actor(session, cookie)
        else:
            raise Unauthenticated(
                "Send a token ('Authorization: Bearer <token>') or log in at /login."
            )
    except Unauthenticated as error:
        if bearer:
            record_failed_login(request, session, "api", error.detail)
        elif changing:  # anonymous knocking is recorded only where the route changes state
            anonymous = Actor(
                "anonymous", Role.viewer, None, "api", request_id=request.state.request_id
            )
            detail = f"{request.method} {request.url.path}: {error.detail}"
            record_refusal(session, anonymous, "authenticate", None, detail)
        raise
    return dataclasses.replace(actor, request_id=request.state.request_id), web_session


def authenticate_request(request: Request, session: Session) -> tuple[Actor, WebSession | None]:
    """The caller, and for a change from a browser session, its origin and CSRF token checked."""
    actor, web_session = identify(request, session)
    check_csrf(request, web_session)
    return actor, web_session


def check_csrf(
    request: Request, web_session: WebSession | None, csrf_field: str | None = None
) -> None:
    """A change from a browser session comes from this site and carries the session's CSRF
    token, in the X-CSRF-Token header or (a form cannot set headers) its csrf_token field."""
    if web_session is None or request.method in SAFE_METHODS:
        return
    require_same_origin(request)
    sent = request.headers.get("x-csrf-token") or csrf_field
    if sent != web_session.csrf_token:
        raise Forbidden("This change is missing its CSRF token; reload the page and try again.")


def require_same_origin(request: Request) -> None:
    """A browser says where a request comes from; another site may not change anything here."""
    origin = request.headers.get("origin")
    if origin and urlparse(origin).netloc != request.url.netloc:
        raise Forbidden(f"Requests from {origin} may not change anything here.")


def authorize(session: Session, actor: Actor, action: Action, environment: str | None) -> None:
    protected = False
    if environment is not None and action.environment_bound:
        found = environments.get_environment(session, environment)
        protected = bool(found and found.protected)
    reason = refusal(actor.role, actor.scope, action, environment, protected)
    if reason is not None:
        raise Forbidden(f"Not allowed: {reason}.")


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


class RateLimited(Permission):
    """A permission that also counts the caller's requests: operation-creating routes."""

    def admit(self, request: Request, response: Response, guard: Guard) -> None:
        counted = request_safety.enforce_rate_limit(
            request.app.state.db_engine,
            guard.actor.name,
            request.app.state.settings.rate_limit_per_minute,
            request.app.state.clock.now(),
        )
        response.headers.update(counted)  # the route's own answer; a 429 carries them itself


Reader = Annotated[Guard, Depends(Permission(Action.read), scope="function")]
