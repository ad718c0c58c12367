"""Hidden idempotency keys on forms: a double-submitted form does its work once."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from service.access import request_safety
from service.access.tokens import hash_token
from service.errors import Conflict
from service.web.auth import Viewer


def claim(request: Request, viewer: Viewer, form: dict[str, str]) -> Response | None:
    """None: go ahead (and call `done` after). A response: this form was already submitted."""
    key = form.get("idempotency_key")
    if not key:
        return None
    caller = _caller(viewer)
    fields = "&".join(f"{k}={v}" for k, v in sorted(form.items()) if k != "csrf_token")
    found = request_safety.claim_key(
        request.app.state.db_engine,
        caller,
        key,
        request_safety.fingerprint("POST", request.url.path, fields.encode()),
    )
    if found.outcome == "replay" and found.body:
        return RedirectResponse(found.body, status_code=303)
    if found.outcome in ("in_progress", "mismatch"):
        raise Conflict("This form was already submitted; see the operation it started.")
    return None


def complete(request: Request, viewer: Viewer, form: dict[str, str], location: str) -> None:
    key = form.get("idempotency_key")
    if key:
        request_safety.complete_key(
            request.app.state.db_engine, _caller(viewer), key, 303, location
        )


def release(request: Request, viewer: Viewer, form: dict[str, str]) -> None:
    key = form.get("idempotency_key")
    if key:
        request_safety.release_key(request.app.state.db_engine, _caller(viewer), key)


def _caller(viewer: Viewer) -> str:
    if viewer.web_session is None:  # a page posted with a bearer token
        return viewer.actor.name
    return "web:" + hash_token(viewer.web_session.secret_hash)
