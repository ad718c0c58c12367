"""Webhooks as the API and the web form see them, and the events they can receive."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from urllib.parse import urlsplit

from pydantic import ConfigDict, Field, field_validator
from sqlmodel import SQLModel

MAX_WEBHOOK_NAME = 60


class Event(StrEnum):
    operation_succeeded = "operation.succeeded"
    operation_failed = "operation.failed"  # failed, or cancelled, or rejected as stale
    approval_needed = "approval.needed"
    schedule_refused = "schedule.refused"  # it would have deleted more than was confirmed
    schedule_missed = "schedule.missed"  # later than its catch-up window
    drift_detected = "drift.detected"  # a drift check found the cloud differs from the state
    environment_expiring = "environment.expiring"  # a day before its expiry destroys it
    environment_expired = "environment.expired"  # its expiry passed: the destroy is queued
    environment_expiry_refused = "environment.expiry_refused"  # the destroy could not be queued yet


class WebhookFormat(StrEnum):
    json = "json"  # Stepladder's payload: event, time, data
    slack = "slack"  # {"text": ...}, for Slack and compatible incoming webhooks


class WebhookCreate(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    name: str = Field(min_length=1, max_length=MAX_WEBHOOK_NAME, pattern=r"^[a-z0-9][a-z0-9-]*$")
    url: str = Field(max_length=2000)
    events: list[Event] = Field(min_length=1, max_length=len(Event))
    format: WebhookFormat = WebhookFormat.json

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL with a host")
        if parts.username or parts.password:
            raise ValueError("must not carry credentials; the payload is signed instead")
        return value

    @field_validator("events")
    @classmethod
    def _events(cls, value: list[Event]) -> list[Event]:
        return sorted(set(value))


class WebhookPublic(SQLModel):
    id: int
    name: str
    url: str
    events: list[str]
    format: str
    enabled: bool
    created_by: str
    created_at: datetime


class WebhookCreated(WebhookPublic):
    # The signing secret: in this response only, never again.
    secret: str


class DeliveryPublic(SQLModel):
    id: int
    event: str
    status: str
    attempts: int
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    finished_at: datetime | None
