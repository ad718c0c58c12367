"""Each step's spec keeps the zones the environment's subnets already use, and tier 0 knows
the deployed cluster whose data it moves back."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from db.models import Environment, Resource
from programs import EnvironmentSpec
from service.operations.planning import build_spec

PRIMARY = "urn:pulumi:shop::stepladder::stepladder:network:Network$aws:ec2/subnet:Subnet::"
SECONDARY = (
    "urn:pulumi:shop::stepladder::stepladder:federation:SecondaryRegion$"
    "stepladder:network:Network$aws:ec2/subnet:Subnet::"
)


def _subnet(prefix: str, name: str, zone: str) -> Resource:
    return Resource(
        environment_id=1,
        position=0,
        urn=prefix + name,
        type="aws:ec2/subnet:Subnet",
        name=name,
        inputs={"availabilityZone": zone},
        outputs={},
    )


def _spec(deployed: list[Resource]) -> EnvironmentSpec:
    environment = Environment(
        name="shop", engine="simulator", region="eu-west-1", secondary_region="us-east-1"
    )
    return build_spec(
        environment, 2, requested_at=datetime(2026, 1, 1, tzinfo=UTC), aws_endpoint_url=None,
        deployed=deployed,
    )  # fmt: skip


def test_the_deployed_subnets_zones_are_kept_in_subnet_order() -> None:
    deployed = [
        _subnet(PRIMARY, "shop-private-1", "eu-west-1a"),
        _subnet(PRIMARY, "shop-public-0", "eu-west-1c"),
        _subnet(PRIMARY, "shop-private-0", "eu-west-1c"),
        _subnet(SECONDARY, "shop-us-east-1-public-0", "us-east-1b"),
        _subnet(SECONDARY, "shop-us-east-1-public-1", "us-east-1d"),
    ]

    spec = _spec(deployed)

    assert spec.deployed_zones == ("eu-west-1c", "eu-west-1a")
    assert spec.deployed_secondary_zones == ("us-east-1b", "us-east-1d")


def test_before_the_first_deploy_no_zones_are_pinned() -> None:
    spec = _spec([])

    assert spec.deployed_zones == () and spec.deployed_secondary_zones == ()


CLUSTER = "urn:pulumi:shop::stepladder::stepladder:data:AuroraDatabase$aws:rds/cluster:Cluster::"
SECRET = (
    "urn:pulumi:shop::stepladder::stepladder:data:AuroraDatabase$aws:secretsmanager/secret:Secret::"
)


def _cluster(**outputs: object) -> Resource:
    return Resource(
        environment_id=1, position=1, urn=CLUSTER + "shop-aurora-cluster",
        type="aws:rds/cluster:Cluster", name="shop-aurora-cluster",
        cloud_id="shop-aurora-cluster-1a2b3c4", inputs={}, outputs=dict(outputs),
    )  # fmt: skip


def _at(tier: int, deployed: list[Resource], **fields: Any) -> EnvironmentSpec:
    environment = Environment(name="shop", region="eu-west-1", **fields)
    return build_spec(
        environment, tier, requested_at=datetime(2026, 1, 1, tzinfo=UTC), aws_endpoint_url=None,
        deployed=deployed,
    )  # fmt: skip


def test_tier_0_with_a_cluster_deployed_moves_its_data_back() -> None:
    cluster = _cluster(
        endpoint="shop.cluster-x.eu-west-1.rds.amazonaws.com",
        masterUserSecrets=[{"secretArn": "arn:aws:secretsmanager:eu-west-1:1:secret:rds!c"}],
    )

    spec = _at(0, [cluster])

    assert spec.returning_cluster_identifier == "shop-aurora-cluster-1a2b3c4"
    assert spec.returning_writer_endpoint == "shop.cluster-x.eu-west-1.rds.amazonaws.com"
    assert spec.returning_secret_arn == "arn:aws:secretsmanager:eu-west-1:1:secret:rds!c"


def test_the_way_back_reads_the_owned_secret_of_a_multi_region_definition() -> None:
    owned = Resource(
        environment_id=1, position=2, urn=SECRET + "shop-aurora-master-password",
        type="aws:secretsmanager/secret:Secret", name="shop-aurora-master-password",
        inputs={}, outputs={"arn": "arn:aws:secretsmanager:eu-west-1:1:secret:owned"},
    )  # fmt: skip

    spec = _at(0, [_cluster(endpoint="e"), owned], secondary_region="us-east-1")

    assert spec.returning_secret_arn == "arn:aws:secretsmanager:eu-west-1:1:secret:owned"


def test_only_tier_0_with_a_cluster_moves_anything_back() -> None:
    cluster = _cluster(endpoint="e", masterUserSecrets=[{"secretArn": "s"}])

    assert _at(1, [cluster]).returning_cluster_identifier is None
    assert _at(0, []).returning_cluster_identifier is None
