"""An unchanged definition plans nothing on its next operation, though every operation brings
a stamp of its own; and what the programs read from a resource is an output AWS sets, in the
simulated AWS too (an output the provider leaves out is unknown to the next preview, so every
resource built from it would plan an update: tests/integration/test_program_idempotence.py)."""

from __future__ import annotations

import dataclasses

import pytest

from programs.spec import HIGHEST_TIER, LOWEST_TIER
from service.engines.diffing import diff_resources
from tests.programs.conftest import SPEC, declare, unsecret

SINGLE_REGION = dataclasses.replace(SPEC, secondary_region=None)


@pytest.mark.parametrize("tier", range(LOWEST_TIER, HIGHEST_TIER + 1))
def test_a_definition_declared_for_a_later_operation_plans_no_changes(tier: int) -> None:
    first = declare(SPEC.at_tier(tier))  # as other tests declare it: cached
    later = declare(dataclasses.replace(SPEC.at_tier(tier), snapshot_stamp="20260102-000000"))

    changes = diff_resources(first.resources, later.resources, later.options)

    assert [(c.name, c.op, c.changed_inputs) for c in changes if c.op != "same"] == []


def test_the_static_origin_is_the_buckets_regional_domain() -> None:
    declared = declare(SINGLE_REGION.at_tier(4))
    bucket = declared.one("aws:s3/bucket:Bucket")

    origins = unsecret(declared.one("aws:cloudfront/distribution:Distribution").inputs["origins"])

    [static] = [origin for origin in origins if origin["originId"] == "static"]
    assert static["domainName"] == bucket.outputs["bucketRegionalDomainName"]
    assert ".s3.eu-west-1." in static["domainName"]


def test_the_web_group_runs_the_templates_latest_version() -> None:
    group = declare(SPEC.at_tier(5)).one("aws:autoscaling/group:Group")

    assert group.inputs["launchTemplate"]["version"] == "1"
