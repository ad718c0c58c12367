"""Environment definitions: what an environment should look like, and where it stands."""

from datetime import datetime

from sqlalchemy import Column, String
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Field, SQLModel

from db.models.columns import timestamp_field


class EnvironmentBase(SQLModel):
    """The definition's editable fields with their defaults (validation lives in the schemas)."""

    description: str = ""
    region: str = "us-east-1"
    availability_zones: int = 2
    protected: bool = False
    web_instance_type: str = "t3.small"
    web_min: int = 2
    web_max: int = 4
    target_cpu: int = 50
    db_engine: str = "aurora-mysql"
    db_instance_class: str = "db.t4g.medium"
    reader_count: int = 1
    reader_max: int = 3
    cache_node_type: str = "cache.t4g.small"
    cache_node_count: int = 2
    secondary_region: str | None = None
    federated_databases: list[str] = Field(
        default_factory=list, sa_column=Column(ARRAY(String), nullable=False)
    )
    certificate_arn: str | None = None


class Environment(EnvironmentBase, table=True):
    __tablename__ = "environments"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=40)
    # The tier of the last step that completed; None until first deployed.
    applied_tier: int | None = None
    # The engine whose state this environment's resources are in.
    engine: str
    # Bumped by every change of the definition (ETags, approvals).
    version: int = 1
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()
