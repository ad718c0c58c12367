"""Security headers on every answer, in one middleware: pages, JSON, streams, static files,
errors and redirects alike.

The policy allows only this site's own scripts, styles, images and connections: no inline
script, `style=` attribute or `on*=` handler runs, no other site may frame a page, and forms post
only here. Headers this middleware does not own (`RateLimit-*`, `Retry-After`, ...) are left as
the route set them.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.http_security.transport import is_https

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        # data: for the icons inside Swagger UI's stylesheet.
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    )
)
EVERY_ANSWER = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    # Not no-referrer: with it a browser sends `Origin: null` on a form's POST, and the CSRF
    # check (service.api.guard.require_same_origin) needs the real origin.
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
# Two years, this host and its subdomains; sent only on answers that travelled over HTTPS.
STRICT_TRANSPORT_SECURITY = "max-age=63072000; includeSubDomains"
# Public files that are the same for everyone may be cached; every other answer may carry a
# secret (a new token, a session's CSRF token) or what only its caller may see.
PUBLIC_ASSETS = ("/static/", "/docs/assets/")
NOT_STORED = "no-store"


class SecurityHeaders:
    """ASGI middleware (pure ASGI, as `service.observability.request_id` explains)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = is_https(scope)
        cacheable = str(scope.get("path", "")).startswith(PUBLIC_ASSETS)

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in EVERY_ANSWER.items():
                    headers[name] = value
                if https:
                    headers["Strict-Transport-Security"] = STRICT_TRANSPORT_SECURITY
                if not cacheable:
                    headers["Cache-Control"] = NOT_STORED
                if "server" in headers:
                    del headers["server"]
            await send(message)

        await self.app(scope, receive, send_secured)
