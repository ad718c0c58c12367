"""Each step's spec keeps the zones the environment's subnets already use."""

from __future__ import annotations

from datetime import UTC, datetime

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
