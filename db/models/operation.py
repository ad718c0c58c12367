"""Operations (one requested change of an environment) and the events they produced."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Column, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from db.models.columns import json_field, timestamp_field


class OperationKind(StrEnum):
    promote = "promote"
    demote = "demote"
    set_tier = "set_tier"
    preview = "preview"
    refresh = "refresh"
    destroy = "destroy"
    # Re-apply the definition (and schedule overrides) at the current tier.
    apply = "apply"
    # Compare the cloud with the recorded state (a refresh in preview mode): changes nothing.
    drift_check = "drift_check"
    # Refresh, then apply the definition at the current tier: undoes out-of-band changes.
    reconcile = "reconcile"


class OperationStatus(StrEnum):
    awaiting_approval = "awaiting_approval"
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"
    rejected = "rejected"

    @property
    def finished(self) -> bool:
        return self in FINISHED_STATUSES


FINISHED_STATUSES = frozenset(
    {
        OperationStatus.succeeded,
        OperationStatus.failed,
        OperationStatus.cancelled,
        OperationStatus.rejected,
    }
)
# Not finished yet: awaiting approval, queued or running.
PENDING_STATUSES = tuple(status for status in OperationStatus if status not in FINISHED_STATUSES)


class Operation(SQLModel, table=True):
    __tablename__ = "operations"

    id: int | None = Field(default=None, primary_key=True)
    # Kept when the environment is deleted: the history outlives the definition.
    environment_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("environments.id", ondelete="SET NULL"), index=True),
    )
    environment_name: str = Field(index=True)
    # Plain strings, not database enums: a new kind needs no type migration.
    kind: OperationKind = Field(sa_type=String)
    status: OperationStatus = Field(
        default=OperationStatus.queued,
        sa_type=String,
        index=True,
    )
    engine: str
    from_tier: int | None = None
    to_tier: int | None = None
    changes: dict[str, Any] = json_field()
    # Stateful resources this operation deletes or replaces ({type, name, urn}); non-empty
    # means destructive, and it runs only when `confirmed`.
    data_loss: list[dict[str, Any]] = json_field(default_factory=list)
    confirmed: bool = False
    outputs: dict[str, Any] = json_field()
    # What a drift check found: [{urn, type, name, op, properties}]; None for other kinds.
    drift: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JSONB, nullable=True))
    error: str | None = None
    error_code: str | None = None
    cancel_requested_at: datetime | None = timestamp_field(nullable=True)
    job_id: int | None = Field(default=None, sa_type=BigInteger)
    # The worker process running it ("host:pid"): a restart on that host knows a dead one at once.
    runner: str | None = None
    requested_by: str | None = None
    channel: str | None = None
    # Approvals: the definition version and plan the approver saw; a change voids them.
    definition_version: int | None = None
    plan: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB, nullable=True))
    approval_expires_at: datetime | None = timestamp_field(nullable=True)
    decided_by: str | None = None
    decision_comment: str | None = None
    decided_at: datetime | None = timestamp_field(nullable=True)
    created_at: datetime = timestamp_field()
    started_at: datetime | None = timestamp_field(nullable=True)
    finished_at: datetime | None = timestamp_field(nullable=True)


class OperationEvent(SQLModel, table=True):
    __tablename__ = "operation_events"
    __table_args__ = (UniqueConstraint("operation_id", "seq"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=BigInteger)
    operation_id: int = Field(
        sa_column=Column(Integer, ForeignKey("operations.id", ondelete="CASCADE"), nullable=False)
    )
    seq: int
    at: datetime = timestamp_field()
    type: str
    message: str
    data: dict[str, Any] = json_field()
