"""How a request travelled: HTTPS served directly, or behind a proxy trusted by address; the
redirect from plain HTTP; the session cookie's name for each."""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Network, IPv6Network
from typing import Any, cast

from starlette.datastructures import URL
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

SESSION_COOKIE = "stepladder_session"
# Over HTTPS the cookie is Secure, host-only and for every path: a sibling host or a forged
# plain-HTTP answer cannot set a cookie of this name (the `__Host-` rule browsers enforce).
SECURE_SESSION_COOKIE = f"__Host-{SESSION_COOKIE}"
# Health checks come from inside (a load balancer, a container runtime) and speak plain HTTP.
STAYS_PLAIN = frozenset({"/healthz"})
HTTPS_PORT = 443


def is_https(scope: Scope) -> bool:
    """Over HTTPS, as the service saw it or a trusted proxy said (`trust_proxies`)."""
    return scope.get("scheme") == "https"


def session_cookie_name(scope: Scope) -> str:
    """Over HTTPS only the `__Host-` cookie is read or written, never the plain one, which
    anyone on the path of a plain-HTTP answer could have planted."""
    return SECURE_SESSION_COOKIE if is_https(scope) else SESSION_COOKIE


def trust_proxies(app: ASGIApp, proxies: Sequence[IPv4Network | IPv6Network]) -> ASGIApp:
    """Believe X-Forwarded-For and X-Forwarded-Proto only from these addresses: the request's
    client and scheme become what the proxy saw. With none, the headers change nothing."""
    if not proxies:
        return app
    # uvicorn types its middleware with its own ASGI types; they are the same protocol.
    proxied = ProxyHeadersMiddleware(cast(Any, app), [str(network) for network in proxies])
    return cast(ASGIApp, proxied)


def https_location(scope: Scope, https_port: int | None) -> str:
    """The same address over HTTPS: the host the browser asked for, on `https_port` (None:
    the standard port, as behind a proxy)."""
    url = URL(scope=scope)
    port = https_port if https_port not in (None, HTTPS_PORT) else None
    return str(url.replace(scheme="https", port=port))


class RedirectPlainHttp:
    """ASGI middleware: a request that arrived over plain HTTP is answered with a permanent
    redirect to HTTPS (308, so a POST stays a POST), except health checks."""

    def __init__(self, app: ASGIApp, https_port: int | None = None) -> None:
        self.app = app
        self.https_port = https_port

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_https(scope) or scope["path"] in STAYS_PLAIN:
            await self.app(scope, receive, send)
            return
        await redirect_to_https(scope, self.https_port)(scope, receive, send)


def redirect_to_https(scope: Scope, https_port: int | None) -> ASGIApp:
    location = https_location(scope, https_port)
    return PlainTextResponse(
        f"This service answers over HTTPS: {location}\n",
        status_code=308,
        headers={"Location": location},
    )


class RedirectEverything:
    """The ASGI app of the plain-HTTP port beside a service serving TLS itself."""

    def __init__(self, https_port: int) -> None:
        self.https_port = https_port

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await redirect_to_https(scope, self.https_port)(scope, receive, send)
