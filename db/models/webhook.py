"""Outgoing webhooks and the log of their deliveries."""

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from db.models.columns import timestamp_field


class Webhook(SQLModel, table=True):
    __tablename__ = "webhooks"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=60)
    url: str
    # The event names it receives (service.notifications.schemas.EVENTS).
    events: list[str] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
    # `json` (Stepladder's own payload) or `slack` (a Slack-compatible message).
    format: str = "json"
    # The signing secret, encrypted with the service's secret key: never stored in the clear.
    sealed_secret: str
    enabled: bool = True
    created_by: str = ""
    created_at: datetime = timestamp_field()


class WebhookDelivery(SQLModel, table=True):
    __tablename__ = "webhook_deliveries"

    id: int | None = Field(default=None, primary_key=True, sa_type=BigInteger)
    webhook_id: int = Field(foreign_key="webhooks.id", ondelete="CASCADE", index=True)
    event: str
    payload: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    # pending -> delivered, or failed once every attempt is spent.
    status: str = "pending"
    attempts: int = 0
    last_status_code: int | None = None
    last_error: str | None = None
    created_at: datetime = timestamp_field(index=True)
    finished_at: datetime | None = timestamp_field(nullable=True)
