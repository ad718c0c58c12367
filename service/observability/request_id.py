"""Every request gets an id: the caller's `X-Request-ID`, or a new one. It is on the request's
state (pages show it, audit records carry it), in the log context, and on the answer."""

from __future__ import annotations

import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.observability import logs

HEADER = "X-Request-ID"


class RequestId:
    """ASGI middleware (not `@app.middleware`, which runs the rest of the request in another
    task and copies each answer through a stream: a measurable share of a fast read)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = dict(scope["headers"]).get(HEADER.lower().encode("latin-1"))
        request_id = sent.decode("latin-1") if sent else uuid.uuid4().hex
        # `request.state` reads this dict.
        scope.setdefault("state", {})["request_id"] = request_id
        logs.request_id.set(request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[HEADER] = request_id
            await send(message)

        await self.app(scope, receive, send_with_id)
