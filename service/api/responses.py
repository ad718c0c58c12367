"""The responses routes declare, as the OpenAPI description shows them.

Every error is `{"error", "detail"}` (`service.errors.error_body`, the one handler's shape), with
`fields` on a 422 (and `data_loss` on a 409 about data), so generated clients parse one shape
whatever went wrong. tests/service/api/test_openapi.py checks that each route declares what it
can answer.
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field
from sqlmodel import SQLModel

from service.access import request_safety


class FieldError(SQLModel):
    field: str
    rule: str


class ErrorBody(SQLModel):
    # Some errors carry more (a 409 about data names the resources in `data_loss`).
    model_config = ConfigDict(extra="allow")  # type: ignore[assignment]

    error: str = Field(description="machine-readable: `not_found`, `validation_failed`, ...")
    detail: str = Field(description="a sentence a person can act on")
    fields: list[FieldError] | None = None


MEANINGS = {
    400: "The body is not valid JSON (`malformed_json`) or not UTF-8 (`http_error`).",
    401: "No valid token or session.",
    403: "The caller's role or scope does not allow this (or a session's change lacks its "
    "CSRF token).",
    404: "No such environment, operation, schedule, token or webhook (or not within the "
    "caller's scope).",
    409: "The request conflicts with the current state (see `error` and `detail`).",
    412: "If-Match names a version that is no longer current.",
    415: "The body was not sent as `application/json`.",
    422: "A field breaks a rule: `fields` names each field and its rule.",
    429: "Too many operation requests this minute; see Retry-After.",
    500: "A failure of ours: the detail names the reference it is logged under.",
    503: "Briefly unavailable (database unreachable, no connection free); see Retry-After.",
}

RATE_LIMIT_HEADERS = {
    name: {"description": meaning, "schema": {"type": "integer", "minimum": 0}}
    for name, meaning in request_safety.RATE_LIMIT_HEADERS.items()
}
RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before sending the request again.",
        "schema": {"type": "integer", "minimum": 1},
    }
}
# What each error status sends besides its body.
ERROR_HEADERS: dict[int, dict[str, Any]] = {
    429: {**RETRY_AFTER, **RATE_LIMIT_HEADERS},
    503: RETRY_AFTER,
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these error statuses, all with the one error model."""
    declared: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        declared[status] = {"model": ErrorBody, "description": MEANINGS[status]}
        if status in ERROR_HEADERS:
            declared[status]["headers"] = ERROR_HEADERS[status]
    return declared


# What any route may answer, whatever it does: a query the database cannot store is a 422.
ANY_ROUTE = errors(422, 500, 503)
# What any authenticated route may answer.
EVERY_ROUTE = {**errors(401, 403), **ANY_ROUTE}
# A route that takes a JSON body: it may not parse, or not be JSON at all.
JSON_BODY = errors(400, 415)
# A POST or PATCH without a body of its own still refuses a body that is not JSON.
NO_BODY = errors(415)


def rate_limited(status: int) -> dict[int | str, dict[str, Any]]:
    """A route that counts against the caller's rate limit: its `status` answer carries the
    count, and past the limit it is a 429."""
    return {status: {"headers": RATE_LIMIT_HEADERS}, **errors(429)}
