"""What the programs declare for one definition at one tier, kept because it never changes.

Declaring is deterministic: the same definition (hashed with the programs' own source) at the
same tier declares the same resources, so every replica can reuse what any one computed.
"""

from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel

from db.models.columns import json_field, timestamp_field


class Declaration(SQLModel, table=True):
    __tablename__ = "declarations"

    spec_hash: str = Field(primary_key=True)
    tier: int = Field(primary_key=True)
    resources: list[dict[str, Any]] = json_field(list)
    created_at: datetime = timestamp_field(index=True)
