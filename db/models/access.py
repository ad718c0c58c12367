"""API tokens and the append-only audit log."""

from datetime import datetime

from sqlalchemy import BigInteger
from sqlmodel import Field, SQLModel

from db.models.columns import timestamp_field


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_tokens"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=80)
    role: str
    # A glob on environment names (`dev-*`); None means every environment.
    scope: str | None = None
    # Only a hash is kept: the token itself is shown once, at creation.
    token_hash: str = Field(unique=True)
    # The first characters, so a person can tell tokens apart in lists.
    prefix: str
    created_at: datetime = timestamp_field()
    expires_at: datetime | None = timestamp_field(nullable=True)
    revoked_at: datetime | None = timestamp_field(nullable=True)
    last_used_at: datetime | None = timestamp_field(nullable=True)


class AuditRecord(SQLModel, table=True):
    __tablename__ = "audit_records"

    id: int | None = Field(default=None, primary_key=True, sa_type=BigInteger)
    at: datetime = timestamp_field(index=True)
    actor: str = Field(index=True)
    channel: str
    action: str = Field(index=True)
    environment: str | None = Field(default=None, index=True)
    outcome: str
    request_id: str | None = None
    detail: str = ""


class WebSession(SQLModel, table=True):
    """A browser's login: from a token (which must stay valid) or from an SSO proxy's user."""

    __tablename__ = "web_sessions"

    id: int | None = Field(default=None, primary_key=True)
    # Only a hash of the cookie's secret is kept, like tokens.
    secret_hash: str = Field(unique=True)
    token_id: int | None = Field(default=None, foreign_key="api_tokens.id", ondelete="CASCADE")
    user: str
    role: str
    scope: str | None = None
    csrf_token: str
    created_at: datetime = timestamp_field()
    expires_at: datetime = timestamp_field()
