"""Request and response shapes of tokens and audit records."""

from __future__ import annotations

from datetime import datetime

from pydantic import ConfigDict, Field, field_validator
from sqlmodel import SQLModel

from service.access.roles import Role

MAX_TOKEN_NAME = 80


class TokenCreate(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    name: str = Field(min_length=1, max_length=MAX_TOKEN_NAME)
    role: Role
    scope: str | None = Field(default=None, max_length=80)
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)

    @field_validator("scope")
    @classmethod
    def _scope(cls, value: str | None) -> str | None:
        if (
            value is not None
            and not value.replace("*", "").replace("?", "").replace("-", "a").isalnum()
        ):
            raise ValueError("must be an environment-name glob such as dev-* (a-z, 0-9, -, *, ?)")
        return value


class TokenPublic(SQLModel):
    id: int
    name: str
    role: str
    scope: str | None
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class TokenCreated(TokenPublic):
    # The secret itself: in this response only, never again.
    token: str


class AuditPublic(SQLModel):
    id: int
    at: datetime
    actor: str
    channel: str
    action: str
    environment: str | None
    outcome: str
    request_id: str | None
    detail: str
