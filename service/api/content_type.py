"""JSON routes take JSON: a body sent as anything else is refused before it is parsed."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from service.errors import UnsupportedMediaType, error_body

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def refusal(request: Request) -> UnsupportedMediaType | None:
    if not request.url.path.startswith("/api/") or request.method not in BODY_METHODS:
        return None
    has_body = request.headers.get("content-length", "0") != "0" or (
        "transfer-encoding" in request.headers
    )
    content_type = request.headers.get("content-type")
    media_type = (content_type or "").split(";")[0].strip().lower()
    if not has_body or media_type == "application/json" or media_type.endswith("+json"):
        return None
    sent = f"'{content_type}'" if content_type else "no content type"
    return UnsupportedMediaType(
        f"The body was sent with {sent}; send it as JSON with 'Content-Type: application/json'."
    )


class RequireJsonBodies:
    """ASGI middleware: a 415 before any route reads a body that is not JSON (pure ASGI for
    the reason `service.observability.request_id` gives)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        refused = refusal(Request(scope)) if scope["type"] == "http" else None
        if refused is None:
            await self.app(scope, receive, send)
            return
        response = JSONResponse(error_body(refused.error, refused.detail), status_code=415)
        await response(scope, receive, send)
