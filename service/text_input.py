"""Text PostgreSQL cannot store is refused at the door, naming where it was.

A NUL character (in a path, a query or a body) or an unpaired UTF-16 surrogate (which JSON's
`\\ud800` escapes can carry) cannot be stored in a `text` column, so either would otherwise fail
deep inside a query. Every request is checked once, here, and answered 422.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.errors import error_body

RULE = "must not contain NUL characters or unpaired surrogates"
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_FORM = "application/x-www-form-urlencoded"


class RejectUnstorableText:
    """ASGI middleware: a 422 for any request whose text PostgreSQL could not store."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        field = _in_path_or_query(scope)
        body = b""
        if field is None and scope["method"] not in ("GET", "HEAD", "OPTIONS", "DELETE"):
            body = await _read_body(receive)
            field = _in_body(body, _content_type(scope))
            receive = _replay(body, receive)
        if field is None:
            await self.app(scope, receive, send)
            return
        fields = [{"field": field, "rule": RULE}]
        response = JSONResponse(
            error_body("validation_failed", f"{field}: {RULE}", fields=fields), status_code=422
        )
        await response(scope, receive, send)


def _in_path_or_query(scope: Scope) -> str | None:
    if _UNSTORABLE.search(scope["path"]):
        return "path"
    query = scope.get("query_string", b"").decode("latin-1")
    for name, value in parse_qsl(query, keep_blank_values=True):
        if _UNSTORABLE.search(name) or _UNSTORABLE.search(value):
            return name if not _UNSTORABLE.search(name) else "query"
    return None


def _in_body(body: bytes, content_type: str) -> str | None:
    if content_type.startswith(_FORM):
        for name, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
            if _UNSTORABLE.search(name) or _UNSTORABLE.search(value):
                return name if not _UNSTORABLE.search(name) else "body"
        return None
    if b"\x00" in body:
        return "body"
    if b"\\u" not in body:  # neither escape can appear otherwise
        return None
    try:
        document = json.loads(body)
    except ValueError:
        return None  # not JSON: the route's own parsing answers that
    return next(_unstorable_fields(document, []), None)


def _unstorable_fields(value: Any, path: list[str]) -> Iterator[str]:
    if isinstance(value, str):
        if _UNSTORABLE.search(value):
            yield ".".join(path) or "body"
    elif isinstance(value, dict):
        for key, item in value.items():
            if _UNSTORABLE.search(key):
                yield ".".join(path) or "body"
            yield from _unstorable_fields(item, [*path, key])
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _unstorable_fields(item, [*path, str(index)])


def _content_type(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"content-type":
            return str(value.decode("latin-1")).lower()
    return ""


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body, handed on to the app as if it arrived now; then whatever the client sends."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
