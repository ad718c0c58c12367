"""The input contract of the programs: everything `build` needs to know about one environment."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

LOWEST_TIER = 0
HIGHEST_TIER = 7


@dataclass(frozen=True)
class EnvironmentSpec:
    """One environment at one tier, with its capacity knobs.

    Knobs a tier does not use are ignored, so one spec type serves the whole ladder.
    """

    name: str
    tier: int
    region: str
    availability_zone_count: int = 2
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
    federated_databases: tuple[str, ...] = field(default_factory=tuple)
    certificate_arn: str | None = None
    # The IAM role every provider of the stack assumes (another account); None: the caller's.
    assume_role_arn: str | None = None
    lambda_memory_mb: int = 256
    lambda_batch_size: int = 10
    business_hours_start: int | None = None
    business_hours_end: int | None = None
    business_hours_days: str = "MON-FRI"
    business_hours_timezone: str = "UTC"
    off_hours_web_min: int = 1
    hosted_zone_id: str | None = None
    domain_name: str | None = None
    # The zones the deployed subnets already use, by subnet index: kept, so a changed zone list
    # in AWS never moves subnets or database instances (empty before the first deploy).
    deployed_zones: tuple[str, ...] = field(default_factory=tuple)
    deployed_secondary_zones: tuple[str, ...] = field(default_factory=tuple)
    # Tier 0 reached from tier 1: the deployed cluster whose data moves back onto the box.
    returning_cluster_identifier: str | None = None
    returning_writer_endpoint: str | None = None
    returning_secret_arn: str | None = None
    # Set when the cluster is first created and then ignored, so it never causes a diff.
    snapshot_stamp: str = "initial"
    # An AWS-compatible endpoint (moto, LocalStack) instead of AWS itself.
    aws_endpoint_url: str | None = None

    def __post_init__(self) -> None:
        if not LOWEST_TIER <= self.tier <= HIGHEST_TIER:
            raise ValueError(f"tier must be between {LOWEST_TIER} and {HIGHEST_TIER}")

    def at_tier(self, tier: int) -> EnvironmentSpec:
        return dataclasses.replace(self, tier=tier)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        for name in TUPLE_FIELDS:
            data[name] = list(data[name])
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EnvironmentSpec:
        known = {f.name for f in dataclasses.fields(cls)}
        values = {key: value for key, value in data.items() if key in known}
        for name in TUPLE_FIELDS:
            values[name] = tuple(values.get(name) or ())
        return cls(**values)


TUPLE_FIELDS = ("federated_databases", "deployed_zones", "deployed_secondary_zones")
