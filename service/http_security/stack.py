"""The layers around the whole application, outside Starlette's own last-resort error handler:
a 500 carries the security headers too, and the client and scheme a trusted proxy reports are
what every part of the application, error pages included, reads."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.types import ASGIApp

from service.config import Settings
from service.http_security.delay import DelayAnswers
from service.http_security.headers import SecurityHeaders
from service.http_security.transport import RedirectPlainHttp, trust_proxies


def secure_application(app: FastAPI, settings: Settings) -> None:
    """Wrap `app`'s middleware stack, built now: call it last, once every middleware and
    exception handler is added (Starlette refuses middleware added after the stack is built)."""
    layered: ASGIApp = DelayAnswers(app.build_middleware_stack())
    if settings.https_redirect:
        layered = RedirectPlainHttp(layered)
    layered = SecurityHeaders(layered)
    app.middleware_stack = trust_proxies(layered, settings.trusted_proxies)
