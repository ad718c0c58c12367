"""Out-of-band changes made to the simulator's pretend cloud: what "AWS" now holds that the
recorded state does not know. Simulator only; the real engine reads the real cloud."""

from datetime import datetime
from typing import Any

from sqlalchemy import Column, ForeignKey, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from db.models.columns import json_field, timestamp_field


class SimulatedChange(SQLModel, table=True):
    __tablename__ = "simulated_changes"
    __table_args__ = (UniqueConstraint("environment_id", "urn"),)

    id: int | None = Field(default=None, primary_key=True)
    environment_id: int = Field(
        sa_column=Column(Integer, ForeignKey("environments.id", ondelete="CASCADE"), nullable=False)
    )
    urn: str
    # The properties as the simulated cloud now has them (input names, as the program sets them).
    properties: dict[str, Any] = json_field()
    # Deleted behind the state's back: the pretend cloud no longer has it.
    deleted: bool = False
    changed_by: str
    changed_at: datetime = timestamp_field()
