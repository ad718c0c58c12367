"""Login, logout and the landing page. Every form posts a CSRF token or is refused."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from service.access.domain import Forbidden, Unauthenticated
from service.access.sessions import (
    end_session,
    session_actor,
    start_sso_session,
    start_token_session,
)
from service.api.deps import SessionDep, SettingsDep
from service.api.guard import require_same_origin
from service.api.login_attempts import LoginThrottled, record_failed_login, refuse_if_throttled
from service.errors import StepladderError
from service.http_security.transport import is_https, session_cookie_name

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


@router.get("/login")
def login_page(request: Request, settings: SettingsDep) -> HTMLResponse:
    return _login_form(request, settings)


@router.post("/login")
def log_in(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    token: Annotated[str | None, Form()] = None,
    sso: Annotated[str | None, Form()] = None,
    next: Annotated[str, Form()] = "/",
) -> Response:
    try:
        require_same_origin(request)
        lifetime = timedelta(hours=settings.session_hours)
        sso_user = _sso_user(request, settings)
        if sso and sso_user:
            secret, _ = start_sso_session(
                session, sso_user, settings.sso_roles, settings.sso_default_role, lifetime,
                request_id=request.state.request_id,
            )  # fmt: skip
        else:
            refuse_if_throttled(request, session)
            secret, _ = start_token_session(
                session, (token or "").strip(), lifetime, request_id=request.state.request_id
            )
    except (Unauthenticated, Forbidden, LoginThrottled) as error:
        if isinstance(error, Unauthenticated):
            record_failed_login(request, session, "web", error.detail)
        form = _login_form(
            request, settings, error=error.detail, status_code=error.status_code, next_path=next
        )
        form.headers.update(error.headers or {})
        return form
    response = RedirectResponse(_local(next), status_code=303)
    response.set_cookie(
        session_cookie_name(request.scope),
        secret,
        max_age=int(settings.session_hours * 3600),
        httponly=True,
        samesite="lax",
        secure=is_https(request.scope),
    )
    return response


@router.post("/logout")
def log_out(
    request: Request, session: SessionDep, csrf_token: Annotated[str, Form()] = ""
) -> Response:
    cookie = request.cookies.get(session_cookie_name(request.scope)) or ""
    try:
        require_same_origin(request)
        actor, web_session = session_actor(session, cookie)
        if csrf_token != web_session.csrf_token:
            raise Forbidden("This form is missing its CSRF token; reload the page and try again.")
    except StepladderError as error:
        if isinstance(error, Unauthenticated):
            return RedirectResponse("/login", status_code=303)
        raise
    end_session(session, cookie, actor, request_id=request.state.request_id)
    response = RedirectResponse("/login", status_code=303)
    # A `__Host-` cookie is replaced (here: removed) only by a Secure one.
    response.delete_cookie(
        session_cookie_name(request.scope), secure=is_https(request.scope), httponly=True
    )
    return response


def _local(path: str) -> str:
    """Only a path on this site: a login link must not send anyone elsewhere."""
    if not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    return path


def _login_form(
    request: Request,
    settings: SettingsDep,
    *,
    error: str | None = None,
    status_code: int = 200,
    next_path: str | None = None,
) -> HTMLResponse:
    return templates.TemplateResponse(
        request,
        "login.html",
        {
            "error": error,
            "sso_user": _sso_user(request, settings),
            "simulated": settings.engine == "simulator",
            "next": _local(next_path or request.query_params.get("next") or "/"),
        },
        status_code=status_code,
    )


def _sso_user(request: Request, settings: SettingsDep) -> str | None:
    if not settings.trusted_user_header:
        return None
    return request.headers.get(settings.trusted_user_header) or None
