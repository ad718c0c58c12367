"""Environment definitions: what an environment should look like, and where it stands."""

from datetime import datetime
from typing import Any

from sqlalchemy import Column, String
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
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
    lambda_memory_mb: int = 256
    lambda_batch_size: int = 10
    # Business hours (tier 5+): Auto Scaling scheduled actions keep capacity up between these
    # hours and drop the minimum to off_hours_web_min outside them. Unset: no schedule.
    business_hours_start: int | None = None
    business_hours_end: int | None = None
    business_hours_days: str = "MON-FRI"
    business_hours_timezone: str = "UTC"
    off_hours_web_min: int = 1
    # Route 53 (tier 7): latency records for domain_name in this hosted zone.
    hosted_zone_id: str | None = None
    domain_name: str | None = None
    # An IAM role the engine's AWS provider assumes (another account); unset: the service's
    # own credentials. An ARN only: no credential is ever stored.
    assume_role_arn: str | None = None


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
    # The schedule layer: temporary capacity overrides on top of the definition, and the tier
    # to go back to, set by schedules and cleared by `restore`. The definition stays as it is.
    capacity_overrides: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSONB, nullable=False, server_default="{}")
    )
    overridden_by: str | None = None
    overridden_since: datetime | None = timestamp_field(nullable=True)
    tier_before_schedule: int | None = None
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()
