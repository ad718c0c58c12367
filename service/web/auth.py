"""Who is looking at a page, and the checks every form post passes."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from sqlmodel import Session

from db.models import WebSession
from service.access.domain import Actor, Forbidden, Unauthenticated, record_audit
from service.access.roles import Action, refusal
from service.access.sessions import COOKIE_NAME, session_actor
from service.api.guard import require_same_origin


class LoginRequired(Exception):
    """A page asked for without a session: the browser goes to the login page."""


@dataclass(frozen=True)
class Viewer:
    actor: Actor
    web_session: WebSession

    @property
    def csrf_token(self) -> str:
        return self.web_session.csrf_token

    def may(self, action: Action, environment: str | None = None, protected: bool = False) -> bool:
        return refusal(self.actor.role, self.actor.scope, action, environment, protected) is None


def page_viewer(request: Request, session: Session) -> Viewer:
    try:
        actor, web_session = session_actor(session, request.cookies.get(COOKIE_NAME) or "")
    except Unauthenticated as error:
        raise LoginRequired from error
    return Viewer(actor, web_session)


def check_form(request: Request, viewer: Viewer, csrf_token: str) -> None:
    """Every state-changing form: same origin, and the session's CSRF token."""
    require_same_origin(request)
    if csrf_token != viewer.csrf_token:
        raise Forbidden("This form is missing its CSRF token; reload the page and try again.")


def require(
    session: Session,
    request: Request,
    viewer: Viewer,
    action: Action,
    environment: str | None = None,
    protected: bool = False,
) -> None:
    """The server enforces the same rules whatever the page showed; refusals are recorded."""
    reason = refusal(viewer.actor.role, viewer.actor.scope, action, environment, protected)
    if reason is None:
        return
    record_audit(
        session,
        actor=viewer.actor.name,
        channel="web",
        action=f"web.{action.value}",
        outcome="denied",
        environment=environment,
        request_id=request.state.request_id,
        detail=reason,
    )
    session.commit()
    raise Forbidden(f"Not allowed: {reason}.")
