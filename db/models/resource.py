"""An environment's resources as of its last completed step, as the engine reported them."""

from typing import Any

from sqlalchemy import Column, ForeignKey, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from db.models.columns import json_field


class Resource(SQLModel, table=True):
    __tablename__ = "resources"
    __table_args__ = (UniqueConstraint("environment_id", "urn"),)

    id: int | None = Field(default=None, primary_key=True)
    environment_id: int = Field(
        sa_column=Column(Integer, ForeignKey("environments.id", ondelete="CASCADE"), nullable=False)
    )
    position: int
    urn: str
    type: str
    name: str
    parent: str | None = None
    custom: bool = True
    cloud_id: str | None = None
    protect: bool = False
    inputs: dict[str, Any] = json_field()
    outputs: dict[str, Any] = json_field()
