"""Auto Scaling as AWS runs it: refreshes that start, alarms that see data, schedules that hold."""

from __future__ import annotations

import dataclasses

import pytest

from tests.programs.conftest import SPEC, declare
from tests.programs.lookalike import run_build

GROUP = "aws:autoscaling/group:Group"
TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
BUSINESS_HOURS = dataclasses.replace(
    SPEC, tier=5, business_hours_start=7, business_hours_end=19, off_hours_web_min=1
)


def test_the_group_follows_a_template_version_number_so_refreshes_start() -> None:
    recorded = run_build(dataclasses.replace(SPEC, tier=5))

    (group,) = recorded.of_type(GROUP)
    assert group["launchTemplate"]["version"] == "1"  # the template's latest version
    assert group["instanceRefresh"]["strategy"] == "Rolling"


def test_a_new_ami_needs_no_new_template_version() -> None:
    template = run_build(dataclasses.replace(SPEC, tier=5)).of_type(TEMPLATE)[0]

    # EC2 resolves the parameter at launch; the template never holds an AMI id.
    assert template["imageId"].startswith("resolve:ssm:/aws/service/")
    assert template["imageId"] not in ("ami-x86", "ami-arm64")


def test_step_alarms_use_periods_basic_monitoring_reports() -> None:
    alarms = [
        r.inputs
        for r in declare(dataclasses.replace(SPEC, tier=5)).of_type(
            "aws:cloudwatch/metricAlarm:MetricAlarm"
        )
        if r.inputs["namespace"] == "AWS/EC2"
    ]

    assert len(alarms) == 2
    assert all(alarm["period"] >= 300 for alarm in alarms)


def test_with_business_hours_a_deploy_leaves_the_minimum_to_the_schedule() -> None:
    scheduled = declare(BUSINESS_HOURS).one(GROUP)
    plain = declare(dataclasses.replace(SPEC, tier=5)).one(GROUP)

    assert "minSize" in declare(BUSINESS_HOURS).options[scheduled.urn]["ignore_changes"]
    assert (
        "minSize"
        not in declare(dataclasses.replace(SPEC, tier=5)).options[plain.urn]["ignore_changes"]
    )


@pytest.mark.parametrize(
    ("days", "end_days"),
    [
        ("MON-FRI", "TUE,WED,THU,FRI,SAT"),
        ("SAT,SUN", "SUN,MON"),
        ("FRI-MON", "SUN,MON,TUE,SAT"),
        ("*", "*"),
        ("1-5", "TUE,WED,THU,FRI,SAT"),
    ],
)
def test_business_hours_ending_at_midnight_end_after_the_last_day(days: str, end_days: str) -> None:
    spec = dataclasses.replace(BUSINESS_HOURS, business_hours_end=24, business_hours_days=days)
    schedules = {
        r.name: r.inputs for r in declare(spec).of_type("aws:autoscaling/schedule:Schedule")
    }

    assert schedules["acme-web-business-hours-start"]["recurrence"] == f"0 7 * * {days}"
    assert schedules["acme-web-business-hours-end"]["recurrence"] == f"0 0 * * {end_days}"


def test_instances_the_group_launches_are_tagged() -> None:
    template = declare(dataclasses.replace(SPEC, tier=5)).one(TEMPLATE).inputs

    tagged = {spec["resourceType"]: spec["tags"] for spec in template["tagSpecifications"]}
    assert set(tagged) == {"instance", "volume"}
    for tags in tagged.values():
        assert tags["Name"] == "acme-web"
        assert tags["stepladder:environment"] == "acme"
