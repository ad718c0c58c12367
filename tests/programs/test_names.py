"""Every physical name fits AWS's limits, for the longest valid names and the longest regions.

A name is what the provider would send to AWS: the explicit name input when the program sets
one, else Pulumi's autoname (the logical name plus `-` and 7 random characters).
"""

from __future__ import annotations

import dataclasses
import re
from collections import defaultdict

import pytest

from service.engines.model import ResourceState
from tests.programs.conftest import SPEC, Declared, declare

AUTONAME_SUFFIX = "-abcdef0"

# AWS's documented limits: the name input of each type, its maximum length, and whether it
# follows the RDS/ElastiCache identifier rules (letter first, no `--`, no trailing `-`).
LIMITS: dict[str, tuple[str, int, bool]] = {
    "aws:lb/loadBalancer:LoadBalancer": ("name", 32, True),
    "aws:lb/targetGroup:TargetGroup": ("name", 32, True),
    "aws:elasticache/replicationGroup:ReplicationGroup": ("replicationGroupId", 40, True),
    "aws:iam/role:Role": ("name", 64, False),
    "aws:rds/cluster:Cluster": ("clusterIdentifier", 63, True),
    "aws:rds/clusterInstance:ClusterInstance": ("identifier", 63, True),
    "aws:rds/globalCluster:GlobalCluster": ("globalClusterIdentifier", 63, True),
    "aws:lambda/function:Function": ("name", 64, False),
    "aws:s3/bucket:Bucket": ("bucket", 63, True),
    "aws:sqs/queue:Queue": ("name", 80, False),
    "aws:cloudfront/originAccessControl:OriginAccessControl": ("name", 64, False),
    "aws:iam/instanceProfile:InstanceProfile": ("name", 128, False),
    "aws:ec2/launchTemplate:LaunchTemplate": ("name", 128, False),
}
IDENTIFIER = re.compile(r"^[a-z](-?[a-z0-9])*$")

LONGEST_NAMES = (
    "n" * 40,
    # Hyphens where a shortened name is cut, so a careless cut would leave `--` or a `-` end.
    "abcdefghijklmnopqrstuvw-x-y-z-0123456789",
    "a-b-c-d-e-f-g-h-i-j-k-l-m-n-o-p-q-r-s-t1",
)
LONGEST_FEDERATED = tuple(f"{letter}{'d' * 28}{index}" for index, letter in enumerate("uvwxy"))


def _longest(name: str) -> Declared:
    return declare(
        dataclasses.replace(
            SPEC,
            name=name,
            tier=7,
            region="ap-southeast-1",
            secondary_region="ap-northeast-1",
            federated_databases=LONGEST_FEDERATED,
            db_instance_class="db.r6g.large",
            reader_count=15,
            reader_max=15,
        )
    )


def _physical_name(resource: ResourceState, name_input: str) -> str:
    explicit = resource.inputs.get(name_input)
    return explicit if explicit else resource.name + AUTONAME_SUFFIX


def _namespace(resource: ResourceState) -> str:
    """Where a name must be unique: IAM is global, the rest per region."""
    if resource.type.startswith("aws:iam/"):
        return "global"
    # The secondary region's resources sit under its component, named after the region.
    return "secondary" if "ap-northeast-1" in resource.urn else "primary"


@pytest.mark.parametrize("name", LONGEST_NAMES)
def test_every_limited_name_fits_its_aws_limit(name: str) -> None:
    declared = _longest(name)

    seen: dict[tuple[str, str], list[str]] = defaultdict(list)
    for resource_type, (name_input, limit, identifier_rules) in LIMITS.items():
        resources = declared.of_type(resource_type)
        assert resources, f"tier 7 declares no {resource_type}"
        for resource in resources:
            physical = _physical_name(resource, name_input)
            assert len(physical) <= limit, f"{resource_type} {physical!r} > {limit}"
            if identifier_rules:
                assert IDENTIFIER.match(physical), f"{resource_type} {physical!r}"
            seen[(resource_type, _namespace(resource))].append(physical)
    for (resource_type, namespace), names in seen.items():
        assert len(names) == len(set(names)), f"{resource_type} names repeat in {namespace}"


def test_final_snapshot_identifiers_are_unique_valid_identifiers() -> None:
    declared = _longest(LONGEST_NAMES[1])

    snapshots = [
        r.inputs["finalSnapshotIdentifier"] for r in declared.of_type("aws:rds/cluster:Cluster")
    ]

    assert len(snapshots) == 1 + len(LONGEST_FEDERATED) + 1  # primary, federated, secondary
    assert len(set(snapshots)) == len(snapshots)
    assert all(IDENTIFIER.match(s) and len(s) <= 255 for s in snapshots), snapshots


def test_two_federated_clusters_get_different_final_snapshots() -> None:
    declared = declare(dataclasses.replace(SPEC, tier=7, db_instance_class="db.r6g.large"))

    users = declared.inputs("acme-users-cluster")["finalSnapshotIdentifier"]
    orders = declared.inputs("acme-orders-cluster")["finalSnapshotIdentifier"]

    assert users != orders
    assert users.startswith("acme-users-final-") and orders.startswith("acme-orders-final-")


def test_short_names_keep_their_autonames() -> None:
    # Environments deployed before the length rule keep their resources: no rename, no replace.
    declared = declare(dataclasses.replace(SPEC, tier=6))

    assert "name" not in declared.one("aws:lb/loadBalancer:LoadBalancer").inputs
    assert "name" not in declared.one("aws:lb/targetGroup:TargetGroup").inputs
    cache = declared.one("aws:elasticache/replicationGroup:ReplicationGroup").inputs
    assert "replicationGroupId" not in cache
    assert "clusterIdentifier" not in declared.one("aws:rds/cluster:Cluster").inputs


def test_a_long_name_is_shortened_the_same_way_every_run() -> None:
    first = _longest(LONGEST_NAMES[0]).one("aws:elasticache/replicationGroup:ReplicationGroup")
    declare.cache_clear()
    again = _longest(LONGEST_NAMES[0]).one("aws:elasticache/replicationGroup:ReplicationGroup")

    assert first.inputs["replicationGroupId"] == again.inputs["replicationGroupId"]
