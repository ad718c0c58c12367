"""From a request to steps: which tiers an operation moves through, and each step's spec."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from db.models import Environment, EnvironmentBase, OperationKind, Resource
from db.models.environment import CONTROL_PLANE_FIELDS
from programs import EnvironmentSpec, tier_by_level
from programs.spec import HIGHEST_TIER
from service.errors import Conflict

# The capacity knobs a schedule may override for a while (TIERS.md, capacity within a tier),
# each with the tier from which it reaches a resource (programs/stack.py): readers from tier 3,
# the cache from tier 4, the Auto Scaling Group from tier 5. Below that the knob changes nothing.
KNOB_FIRST_TIER = {
    "web_min": 5,
    "web_max": 5,
    "reader_count": 3,
    "reader_max": 3,
    "cache_node_count": 4,
}
SCHEDULABLE_KNOBS = tuple(KNOB_FIRST_TIER)

# The definition's fields the programs read; the spec names one of them differently.
SPEC_FIELDS = frozenset(EnvironmentBase.model_fields) - CONTROL_PLANE_FIELDS
SPEC_NAMES = {"availability_zones": "availability_zone_count"}


def plan_tiers(
    kind: OperationKind, projected_tier: int | None, target_tier: int | None
) -> tuple[int | None, int | None]:
    """(from_tier, to_tier) of a request, against the tier the environment will be at once
    everything queued before it has run. Raises Conflict when the move is impossible."""
    if kind == OperationKind.promote:
        if projected_tier is None:
            return None, 0
        if projected_tier >= HIGHEST_TIER:
            top = tier_by_level(HIGHEST_TIER)
            raise Conflict(
                f"Already at tier {HIGHEST_TIER} ({top.name}), the top of the ladder; "
                "there is nothing to promote to."
            )
        return projected_tier, projected_tier + 1
    if kind == OperationKind.demote:
        if projected_tier is None:
            raise Conflict("Nothing is deployed, so there is nothing to demote.")
        if projected_tier == 0:
            raise Conflict(
                "Already at tier 0 (Single box), the bottom of the ladder; "
                "use destroy to remove the environment's resources."
            )
        return projected_tier, projected_tier - 1
    if kind == OperationKind.set_tier:
        assert target_tier is not None
        if projected_tier == target_tier:
            raise Conflict(f"Already at tier {target_tier}; nothing to do.")
        return projected_tier, target_tier
    if kind == OperationKind.preview:
        return projected_tier, target_tier
    if projected_tier is None:
        raise Conflict(f"Nothing is deployed, so there is nothing to {kind.value}.")
    if kind == OperationKind.destroy:
        return projected_tier, None
    return projected_tier, projected_tier  # refresh, apply


def step_tiers(from_tier: int | None, to_tier: int) -> list[int]:
    """The tiers walked one at a time: 0 -> 3 is [1, 2, 3]; from nothing, start at 0."""
    if from_tier is None:
        return list(range(0, to_tier + 1))
    direction = 1 if to_tier > from_tier else -1
    return list(range(from_tier + direction, to_tier + direction, direction))


SUBNET = "aws:ec2/subnet:Subnet"
SECONDARY_REGION = "stepladder:federation:SecondaryRegion"
SUBNET_INDEX = re.compile(r"-(public|private)-(\d+)$")


def deployed_zones(resources: Sequence[Resource]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The zones of the deployed subnets, by subnet index: (primary region, secondary region).

    Subnet i sits in zone i, so the zones read back in that order are the ones to keep."""
    found: dict[bool, dict[int, str]] = {False: {}, True: {}}
    for resource in resources:
        match = SUBNET_INDEX.search(resource.name)
        zone = resource.inputs.get("availabilityZone")
        if resource.type == SUBNET and match and zone:
            found[SECONDARY_REGION in resource.urn].setdefault(int(match.group(2)), zone)
    return _in_index_order(found[False]), _in_index_order(found[True])


def _in_index_order(zones: dict[int, str]) -> tuple[str, ...]:
    ordered: list[str] = []
    for index in range(len(zones)):
        if index not in zones or zones[index] in ordered:
            break
        ordered.append(zones[index])
    return tuple(ordered)


CLUSTER = "aws:rds/cluster:Cluster"
SECRET = "aws:secretsmanager/secret:Secret"
SINGLE_BOX_TIER = 0


@dataclass(frozen=True)
class DeployedDatabase:
    """The primary Aurora cluster as deployed: what the way back to the box reads from."""

    cluster_identifier: str | None = None
    writer_endpoint: str | None = None
    secret_arn: str | None = None


def deployed_database(name: str, resources: Sequence[Resource]) -> DeployedDatabase:
    """The environment's primary cluster (`<name>-aurora-cluster`), empty when there is none.

    Its master secret is the one AWS manages, or the secret Stepladder owns for a multi-region
    definition (`<name>-aurora-master-password`)."""
    cluster = next(
        (r for r in resources if r.type == CLUSTER and r.name == f"{name}-aurora-cluster"), None
    )
    if cluster is None:
        return DeployedDatabase()
    owned = next(
        (r for r in resources if r.type == SECRET and r.name == f"{name}-aurora-master-password"),
        None,
    )
    managed = cluster.outputs.get("masterUserSecrets") or [{}]
    secret_arn = owned.outputs.get("arn") if owned is not None else managed[0].get("secretArn")
    return DeployedDatabase(
        cluster_identifier=cluster.cloud_id or cluster.outputs.get("id"),
        writer_endpoint=cluster.outputs.get("endpoint"),
        secret_arn=secret_arn,
    )


def build_spec(
    environment: Environment,
    tier: int,
    *,
    requested_at: datetime,
    aws_endpoint_url: str | None,
    deployed: Sequence[Resource] = (),
) -> EnvironmentSpec:
    """The definition at `tier`, with the schedule layer's capacity overrides on top, in the
    zones its resources already use."""
    zones, secondary_zones = deployed_zones(deployed)
    definition = {
        SPEC_NAMES.get(name, name): value
        for name, value in environment.model_dump(include=set(SPEC_FIELDS)).items()
    }
    overrides = environment.capacity_overrides or {}
    capacity = {knob: int(overrides[knob]) for knob in SCHEDULABLE_KNOBS if knob in overrides}
    programs_need = {"federated_databases": tuple(environment.federated_databases)}
    # Tier 0 with a cluster deployed is the step back from tier 1: the data moves to the box.
    returning = (
        deployed_database(environment.name, deployed)
        if tier == SINGLE_BOX_TIER
        else DeployedDatabase()
    )
    return EnvironmentSpec(
        **(definition | capacity | programs_need),
        name=environment.name,
        tier=tier,
        snapshot_stamp=requested_at.strftime("%Y%m%d-%H%M%S"),
        deployed_zones=zones,
        deployed_secondary_zones=secondary_zones,
        returning_cluster_identifier=returning.cluster_identifier,
        returning_writer_endpoint=returning.writer_endpoint,
        returning_secret_arn=returning.secret_arn,
        aws_endpoint_url=aws_endpoint_url,
    )
