"""Answers held back without holding anything else: a route asks for a delay and returns; the
delay is spent here, after its database session has been given back, without a thread."""

from __future__ import annotations

from asyncio import sleep

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

STATE_KEY = "answer_delay_seconds"


def delay_answer(request: Request, seconds: float) -> None:
    """Hold this request's answer back `seconds` before it is sent."""
    setattr(request.state, STATE_KEY, seconds)


class DelayAnswers:
    """ASGI middleware: waits the requested delay before the answer's first byte."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_when_due(message: Message) -> None:
            if message["type"] == "http.response.start":
                seconds = scope.get("state", {}).get(STATE_KEY, 0.0)
                if seconds > 0:
                    await sleep(seconds)
            await send(message)

        await self.app(scope, receive, send_when_due)
