"""The error model every route answers with, as the OpenAPI description shows it.

Every error is `{"error", "detail"}`, with `fields` on a 422 (and `data_loss` on a 409 about
data), so generated clients parse one shape whatever went wrong.
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict
from sqlmodel import SQLModel


class FieldError(SQLModel):
    field: str
    rule: str


class ErrorBody(SQLModel):
    # Some errors carry more (a 409 about data names the resources in `data_loss`).
    model_config = ConfigDict(extra="allow")  # type: ignore[assignment]

    error: str
    detail: str
    fields: list[FieldError] | None = None


MEANINGS = {
    400: "The body is not valid JSON.",
    401: "No valid token or session.",
    403: "The caller's role or scope does not allow this.",
    404: "No such environment, operation, schedule or token (or not within the caller's scope).",
    409: "The request conflicts with the current state (see `error` and `detail`).",
    412: "If-Match names a version that is no longer current.",
    422: "A field breaks a rule: `fields` names each field and its rule.",
    429: "Too many operation requests; see Retry-After.",
    503: "Briefly unavailable (database unreachable, planning busy); see Retry-After.",
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these error statuses, all with the one error model."""
    return {status: {"model": ErrorBody, "description": MEANINGS[status]} for status in statuses}


# What any authenticated route may answer, whatever it does.
EVERY_ROUTE = errors(401, 403, 422, 503)
