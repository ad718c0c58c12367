"""One error base class with a status code and a machine-readable name; one handler for all."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.observability.references import internal_error_message, new_reference

logger = logging.getLogger(__name__)

DATABASE_RETRY_SECONDS = 5


class StepladderError(Exception):
    """An expected failure: a sentence a person can act on, and the status it deserves."""

    status_code = 400
    error = "bad_request"
    # How the audit log records a change this error stopped: `denied` for a refusal of access,
    # or of data loss nobody confirmed (a schedule firing past its confirmation); else `failed`.
    audit_outcome = "failed"

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers
        self.extra = extra


class NotFound(StepladderError):
    status_code = 404
    error = "not_found"


class Conflict(StepladderError):
    status_code = 409
    error = "conflict"


class PreconditionFailed(StepladderError):
    status_code = 412
    error = "precondition_failed"


class TooManyRequests(StepladderError):
    status_code = 429
    error = "rate_limited"


class MalformedJson(StepladderError):
    status_code = 400
    error = "malformed_json"


class UnsupportedMediaType(StepladderError):
    status_code = 415
    error = "unsupported_media_type"


class ServiceUnavailable(StepladderError):
    """Busy or briefly cut off: the same request may well work when retried later."""

    status_code = 503
    error = "unavailable"

    def __init__(self, detail: str, *, retry_after: int, **extra: Any) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)}, **extra)


class InternalError(StepladderError):
    """A failure of ours already logged under a reference, which the detail names."""

    status_code = 500
    error = "internal_error"


class InvalidInput(StepladderError):
    status_code = 422
    error = "validation_failed"

    @classmethod
    def from_fields(cls, fields: list[dict[str, str]]) -> InvalidInput:
        """`{field, rule}` pairs as one 422: a detail naming each, and the pairs themselves."""
        return cls(join_fields(fields), fields=fields)


def join_fields(fields: list[dict[str, str]]) -> str:
    return "; ".join(f"{item['field']}: {item['rule']}" for item in fields)


def error_body(error: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"error": error, "detail": detail, **extra}


def describe_validation_errors(errors: list[Any]) -> list[dict[str, str]]:
    """Pydantic's errors as `{field, rule}` pairs, the field named as the client wrote it."""
    described = []
    for error in errors:
        location = [str(part) for part in error.get("loc", ()) if part not in ("body", "query")]
        field = ".".join(location) or "body"
        message = str(error.get("msg", "is invalid")).removeprefix("Value error, ")
        described.append({"field": field, "rule": message})
    return described


def malformed_json(errors: list[Any]) -> MalformedJson | None:
    """A body that does not parse is the client's framing, not a field, so not a 422."""
    for error in errors:
        if error.get("type") == "json_invalid":
            position = error.get("loc", ("body", "?"))[-1]
            reason = error.get("ctx", {}).get("error", "JSON decode error")
            return MalformedJson(
                f"malformed JSON: {reason} at character {position}. The body must be one JSON "
                "object."
            )
    return None


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(StepladderError)
    async def handle_stepladder_error(_: Request, exc: StepladderError) -> JSONResponse:
        return JSONResponse(
            error_body(exc.error, exc.detail, **exc.extra),
            status_code=exc.status_code,
            headers=exc.headers,
        )

    @app.exception_handler(RequestValidationError)
    async def handle_validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        malformed = malformed_json(list(exc.errors()))
        if malformed is not None:
            return await handle_stepladder_error(_, malformed)
        fields = describe_validation_errors(list(exc.errors()))
        return JSONResponse(
            error_body("validation_failed", join_fields(fields), fields=fields), status_code=422
        )

    @app.exception_handler(StarletteHTTPException)
    async def handle_http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        names = {404: "not_found", 405: "method_not_allowed"}
        return JSONResponse(
            error_body(names.get(exc.status_code, "http_error"), str(exc.detail)),
            status_code=exc.status_code,
            headers=exc.headers,
        )

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    async def handle_database_unreachable(request: Request, exc: Exception) -> JSONResponse:
        # The database went away (restart, failover, network): nothing was done; retry.
        logger.warning("database unreachable on %s %s: %s", request.method, request.url.path, exc)
        return JSONResponse(
            error_body(
                "unavailable", "The database cannot be reached just now; retry in a few seconds."
            ),
            status_code=503,
            headers={"Retry-After": str(DATABASE_RETRY_SECONDS)},
        )

    @app.exception_handler(PoolTimeout)
    async def handle_busy_database(request: Request, exc: Exception) -> JSONResponse:
        # Every pooled connection stayed busy: a burst, not a fault; the client may retry.
        logger.warning("no database connection free on %s %s", request.method, request.url.path)
        return JSONResponse(
            error_body("unavailable", "The service is busy just now; retry in a few seconds."),
            status_code=503,
            headers={"Retry-After": str(DATABASE_RETRY_SECONDS)},
        )

    @app.exception_handler(Exception)
    async def handle_unexpected_error(request: Request, exc: Exception) -> JSONResponse:
        # The cause goes to the log under a reference; the client gets the reference only.
        reference = new_reference()
        logger.exception(
            "unexpected error %s on %s %s", reference, request.method, request.url.path
        )
        return JSONResponse(
            error_body("internal_error", internal_error_message(reference)),
            status_code=500,
        )
