"""Errors for a browser: an HTML page with the navigation and a sentence to act on.

The API keeps its JSON errors; a page's path (anything outside /api, /docs and /openapi.json)
gets a page instead, and a page asked for without a session goes to the login form.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.access.domain import Unauthenticated
from service.access.roles import Action
from service.api.guard import Guard, identify
from service.errors import StepladderError
from service.web.templating import render

Handler = Callable[[Request, Any], Response | Awaitable[Response]]
API_PREFIXES = ("/api/", "/docs", "/openapi.json", "/healthz", "/metrics", "/static/")

ADVICE = {
    401: "Log in again to go on.",
    403: "Ask an admin for a token with the role or scope this needs.",
    404: "It may have been deleted, or the address is mistyped. Start again from the list.",
    409: "Reload the page to see the current state, then try again.",
    422: "Go back and correct the form.",
    429: "Wait a minute, then try again.",
    500: "Something went wrong on our side; it has been logged. Try again in a moment.",
}


def is_page(request: Request) -> bool:
    """Pages answer errors in HTML (a login page for a stranger), the API in JSON; the API's
    documentation is a page to a browser and JSON to a script."""
    if request.url.path == "/docs":
        return "text/html" in request.headers.get("accept", "")
    return not request.url.path.startswith(API_PREFIXES)


def install_error_pages(app: FastAPI) -> None:
    """Wrap the JSON handlers (service.errors): pages get HTML, the API keeps JSON."""
    for error_type in (StepladderError, RequestValidationError, StarletteHTTPException, Exception):
        app.add_exception_handler(error_type, _for_pages(app.exception_handlers[error_type]))


def _for_pages(api_handler: Handler) -> Handler:
    async def handle(request: Request, error: Exception) -> Response:
        response = api_handler(request, error)
        if inspect.isawaitable(response):
            response = await response
        if not is_page(request):
            return response
        if isinstance(error, Unauthenticated):
            if request.method != "GET":  # a form's target is no page to come back to
                return RedirectResponse("/login", status_code=303)
            wanted = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(wanted)}", status_code=303)
        return _page(request, response.status_code, _sentence(error, response.status_code))

    return handle


def _sentence(error: Exception, status: int) -> str:
    if isinstance(error, StepladderError):
        return error.detail
    if status == 404:
        return "There is no such page."
    if status == 422:
        return "Part of the address is not valid."
    if status >= 500:
        return "The page could not be shown."
    return str(getattr(error, "detail", "The request could not be handled."))


def _page(request: Request, status: int, sentence: str) -> Response:
    return render(
        request,
        "error.html",
        _viewer(request),
        request.app.state.settings,
        status_code=status,
        status=status,
        sentence=sentence,
        advice=ADVICE.get(status, ADVICE[409] if status < 500 else ADVICE[500]),
    )


def _viewer(request: Request) -> Guard | None:
    """Who is looking, for the navigation; an error page is shown even when this fails."""
    try:
        with Session(request.app.state.db_engine) as session:
            actor, web_session = identify(request, session)
            session.expunge_all()
    except Exception:  # noqa: BLE001 - the error page must render whatever went wrong here
        return None
    return Guard(Action.read, None, actor, web_session)
