"""The simulator's drift check: what an admin changed in its pretend cloud, less what
autoscaling owns, reported as resources and property names, and the state left alone."""

from __future__ import annotations

from typing import Any

from programs import EnvironmentSpec
from service.engines.model import OutOfBandChange, ResourceState, StepRequest
from service.engines.simulator import SimulatorEngine

GROUP = ResourceState(
    urn="urn:pulumi:shop::stepladder::aws:autoscaling/group:Group::shop-web",
    type="aws:autoscaling/group:Group",
    name="shop-web",
    id="sim-asg-1",
    inputs={"desiredCapacity": 2, "minSize": 2, "maxSize": 4},
)
TABLE = ResourceState(
    urn="urn:pulumi:shop::stepladder::aws:dynamodb/table:Table::shop-sessions",
    type="aws:dynamodb/table:Table",
    name="shop-sessions",
    id="sim-table-1",
    inputs={"billingMode": "PAY_PER_REQUEST"},
)
COMPONENT = ResourceState(
    urn="urn:pulumi:shop::stepladder::stepladder:web:Web::shop-web",
    type="stepladder:web:Web",
    name="shop-web",
    custom=False,
)
STATE = [COMPONENT, GROUP, TABLE]


def check(out_of_band: list[dict[str, Any]]) -> list[dict[str, Any]]:
    engine = SimulatorEngine(
        out_of_band=[OutOfBandChange.model_validate(item) for item in out_of_band]
    )
    events: list[dict[str, Any]] = []
    step = StepRequest(
        action="drift_check", spec=EnvironmentSpec(name="shop", tier=5, region="eu-west-1"),
        to_tier=5,
    )  # fmt: skip
    result = engine.run_step(step, STATE, events.append)
    assert result.resources == STATE  # a check never changes the state
    assert all(event["message"].startswith("[simulator] ") for event in events)
    assert result.drift is not None
    return [item.model_dump(mode="json") for item in result.drift]


def test_the_desired_capacity_autoscaling_set_is_not_drift() -> None:
    assert check([{"urn": GROUP.urn, "properties": {"desiredCapacity": 7}}]) == []


def test_other_properties_of_the_same_group_are() -> None:
    found = check([{"urn": GROUP.urn, "properties": {"desiredCapacity": 7, "maxSize": 40}}])
    assert found == [
        {"urn": GROUP.urn, "type": GROUP.type, "name": "shop-web", "op": "update",
         "properties": ["maxSize"]},
    ]  # fmt: skip


def test_a_deleted_table_and_a_changed_group_are_both_reported() -> None:
    found = check(
        [
            {"urn": TABLE.urn, "properties": {}, "deleted": True},
            {"urn": GROUP.urn, "properties": {"minSize": 0}},
        ]
    )
    assert [(item["name"], item["op"], item["properties"]) for item in found] == [
        ("shop-web", "update", ["minSize"]),
        ("shop-sessions", "delete", []),
    ]


def test_a_value_set_back_to_what_was_applied_is_no_drift() -> None:
    assert check([{"urn": GROUP.urn, "properties": {"maxSize": 4}}]) == []
