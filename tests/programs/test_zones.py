"""Availability zones: chosen once among the zones every account has, then kept."""

from __future__ import annotations

import dataclasses
from typing import Any

from tests.programs.conftest import SPEC
from tests.programs.lookalike import run_build

SUBNET = "aws:ec2/subnet:Subnet"


def _subnet_zones(spec_changes: dict[str, Any]) -> dict[str, str]:
    recorded = run_build(dataclasses.replace(SPEC, tier=2, secondary_region=None, **spec_changes))
    return {
        name: inputs["availabilityZone"]
        for kind, name, inputs in recorded.resources
        if kind == SUBNET
    }


def test_the_first_deploy_takes_zones_that_need_no_opt_in() -> None:
    recorded = run_build(dataclasses.replace(SPEC, tier=1, secondary_region=None))

    (look_up,) = recorded.looked_up("aws:index/getAvailabilityZones:getAvailabilityZones")
    assert look_up["state"] == "available"
    assert {"name": "opt-in-status", "values": ["opt-in-not-required"]} in look_up["filters"]


def test_deployed_zones_are_kept_whatever_aws_lists_now() -> None:
    # AWS now lists zone-a, zone-b, zone-c; the environment was deployed in c and b.
    zones = _subnet_zones({"deployed_zones": ("zone-c", "zone-b")})

    assert zones["acme-public-0"] == zones["acme-private-0"] == "zone-c"
    assert zones["acme-public-1"] == zones["acme-private-1"] == "zone-b"


def test_a_step_that_needs_a_new_zone_adds_it_after_the_deployed_ones() -> None:
    # Tier 0 deployed one subnet in zone-c; tier 2 needs a second zone.
    zones = _subnet_zones({"deployed_zones": ("zone-c",)})

    assert zones["acme-public-0"] == "zone-c"
    assert zones["acme-public-1"] == "zone-a"
