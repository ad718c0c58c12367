"""`Idempotency-Key` on the POSTs that create environments or operations.

Same key and same body: the original response, and nothing created again. Same key, other
body: 422. Same key while the first request is still running: 409. Keys belong to the
authenticated caller (the token, or the single-sign-on user) and are kept 24 hours; a caller who
is not authenticated, or whose browser request fails the CSRF checks, is never answered from a
stored response: the route itself refuses it.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from sqlmodel import Session

from service.access import request_safety
from service.api.guard import authenticate_request
from service.errors import StepladderError, error_body

HEADER = "idempotency-key"
MAX_KEY_LENGTH = 200


# How the OpenAPI description shows the header on every POST of these routes.
PARAMETER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Send the same key to repeat a request safely: the first answer is returned "
    "again (with Idempotent-Replayed: true) and nothing is done twice. Kept 24 hours.",
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
}


class IdempotentRoute(APIRoute):
    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        if "POST" in (self.methods or ()):
            extra = self.openapi_extra or {}
            parameters = [*extra.get("parameters", []), PARAMETER]
            self.openapi_extra = {**extra, "parameters": parameters}

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def handle_once(request: Request) -> Response:
            key = request.headers.get(HEADER)
            if request.method != "POST" or not key:
                return await handle(request)
            if len(key) > MAX_KEY_LENGTH:
                return _refusal(
                    422,
                    "invalid_idempotency_key",
                    f"Idempotency-Key: at most {MAX_KEY_LENGTH} characters.",
                )
            db = request.app.state.db_engine
            caller = await run_in_threadpool(_authenticated_caller, request)
            if caller is None:
                return await handle(request)
            body = await request.body()
            claim = await run_in_threadpool(
                request_safety.claim_key,
                db,
                caller,
                key,
                request_safety.fingerprint(request.method, request.url.path, body),
            )
            if claim.outcome == "mismatch":
                return _refusal(
                    422,
                    "idempotency_key_reused",
                    "Idempotency-Key: this key was already used for a different request.",
                )
            if claim.outcome == "in_progress":
                return _refusal(
                    409,
                    "idempotency_key_in_progress",
                    "A request with this Idempotency-Key is still being processed; retry shortly.",
                )
            if claim.outcome == "replay":
                assert claim.status is not None and claim.body is not None
                return Response(
                    claim.body,
                    status_code=claim.status,
                    media_type="application/json",
                    headers={"Idempotent-Replayed": "true"},
                )
            try:
                response = await handle(request)
            except BaseException:
                await run_in_threadpool(request_safety.release_key, db, caller, key)
                raise
            if 200 <= response.status_code < 300:
                await run_in_threadpool(
                    request_safety.complete_key,
                    db,
                    caller,
                    key,
                    response.status_code,
                    bytes(response.body).decode(),
                )
            else:
                await run_in_threadpool(request_safety.release_key, db, caller, key)
            return response

        return handle_once


def _refusal(status: int, error: str, detail: str) -> JSONResponse:
    return JSONResponse(error_body(error, detail), status_code=status)


def _authenticated_caller(request: Request) -> str | None:
    """Whose keys these are, once the caller has passed every check a change needs; None for
    anyone else, whom the route's own guard then refuses (and audits)."""
    with Session(request.app.state.db_engine) as session:
        try:
            actor, web_session = authenticate_request(request, session)
        except StepladderError:
            return None
    # A browser session logged in with a token acts as that token; an SSO user as itself.
    if web_session is None or web_session.token_id is not None:
        return f"token:{actor.name}"
    return f"user:{actor.name}"
