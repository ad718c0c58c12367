"""Readers replica auto scaling created are gone, and the writer is Pulumi's writer, before a
step down deletes the scaling target or the standby (finding 4, and 2 -> 1's failover)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from programs.scripts.settle_replicas import AUTOSCALED_PREFIX, settle
from service.engines.diffing import diff_resources
from service.engines.model import ResourceChange
from tests.programs.conftest import SPEC, declare
from tests.programs.lookalike import run_build

TARGET = "aws:appautoscaling/target:Target"
ASSOCIATION = "aws:ssm/association:Association"
INSTANCE = "aws:rds/clusterInstance:ClusterInstance"


def _step(from_tier: int, to_tier: int) -> list[ResourceChange]:
    before, after = declare(SPEC.at_tier(from_tier)), declare(SPEC.at_tier(to_tier))
    return diff_resources(before.resources, after.resources, after.options)


def _settling(changes: list[ResourceChange]) -> list[str]:
    return [
        c.name
        for c in changes
        if c.op == "create" and c.type == ASSOCIATION and "-settle-" in c.name
    ]


@pytest.mark.parametrize("tier", range(1, 8))
def test_a_step_down_that_removes_replicas_or_their_target_first_waits_for_aws(tier: int) -> None:
    changes = _step(tier, tier - 1)
    removes_target = any(c.op == "delete" and c.type == TARGET for c in changes)
    caps_target = any(c.op == "update" and c.type == TARGET for c in changes)
    removes_standby = any(c.op == "delete" and c.name == "acme-aurora-standby" for c in changes)

    # Pulumi deletes what a step removes after what it creates: the wait comes first.
    expected = {
        3: ["acme-aurora-settle-drain"],
        2: ["acme-aurora-settle-failover"],
    }.get(tier, [])
    assert _settling(changes) == expected
    assert (removes_target or caps_target or removes_standby) == bool(expected)


def test_stepping_down_to_2_caps_the_target_at_the_standby_and_waits_for_it() -> None:
    recorded = run_build(SPEC.at_tier(2))

    (target,) = recorded.of_type(TARGET)
    assert (target["minCapacity"], target["maxCapacity"]) == (1, 1)  # the standby alone
    drain = recorded.named("acme-aurora-settle-drain")
    assert drain["parameters"]["WriterId"] == ""
    assert drain["waitForSuccessTimeoutSeconds"] >= 1800
    assert "acme-aurora-readers" in recorded.depends_on["acme-aurora-settle-drain"]


def test_stepping_down_to_1_fails_over_to_the_writer_before_the_standby_goes() -> None:
    recorded = run_build(SPEC.at_tier(1))

    failover = recorded.named("acme-aurora-settle-failover")
    assert failover["parameters"]["WriterId"] == "acme-aurora-writer-id"
    assert failover["parameters"]["ClusterId"] == "acme-aurora-cluster-id"
    document = json.loads(recorded.named("acme-aurora-settle-document")["content"])
    assert document["assumeRole"] == "{{ AutomationAssumeRole }}"
    assert "def settle(" in document["mainSteps"][0]["inputs"]["Script"]
    policy = json.loads(recorded.named("acme-aurora-settle-access")["policy"])
    assert set(policy["Statement"][0]["Action"]) == {
        "rds:DescribeDBClusters",
        "rds:FailoverDBCluster",
    }


def test_no_settling_where_the_cluster_keeps_its_replicas() -> None:
    for tier in (0, 3, 4, 7):
        assert not [
            r for r in declare(SPEC.at_tier(tier)).of_type(ASSOCIATION) if "-settle-" in r.name
        ]


def test_the_replica_maximum_counts_the_standby_and_fits_aurora() -> None:
    spec = dataclasses.replace(SPEC, reader_count=14, reader_max=14)

    (target,) = declare(spec.at_tier(3)).of_type(TARGET)
    assert (target.inputs["minCapacity"], target.inputs["maxCapacity"]) == (15, 15)


class FakeRds:
    """Answers describe_db_clusters from a script of cluster states; records failovers."""

    def __init__(self, states: list[tuple[str, list[tuple[str, bool]]]]) -> None:
        self.states = states
        self.failovers: list[str] = []

    def describe_db_clusters(self, DBClusterIdentifier: str) -> dict[str, Any]:
        status, members = self.states[0] if len(self.states) == 1 else self.states.pop(0)
        return {
            "DBClusters": [
                {
                    "Status": status,
                    "DBClusterMembers": [
                        {"DBInstanceIdentifier": name, "IsClusterWriter": writer}
                        for name, writer in members
                    ],
                }
            ]
        }

    def failover_db_cluster(
        self,
        DBClusterIdentifier: str,
        TargetDBInstanceIdentifier: str,
    ) -> None:
        self.failovers.append(TargetDBInstanceIdentifier)


def test_the_script_waits_until_the_autoscaled_readers_are_gone() -> None:
    autoscaled = (f"{AUTOSCALED_PREFIX}abc", False)
    rds = FakeRds(
        [
            ("available", [("w", True), ("standby", False), autoscaled]),
            ("available", [("w", True), ("standby", False), autoscaled]),
            ("available", [("w", True), ("standby", False)]),
        ]
    )
    sleeps: list[float] = []

    assert settle(rds, "c", "", sleeps.append) == {"writer": "w", "replicas": 1}
    assert len(sleeps) == 2
    assert rds.failovers == []


def test_the_script_fails_over_to_the_named_writer_once_the_cluster_is_available() -> None:
    rds = FakeRds(
        [
            ("modifying", [("w", False), ("standby", True)]),
            ("available", [("w", False), ("standby", True)]),
            ("failing-over", [("w", False), ("standby", True)]),
            ("available", [("w", True), ("standby", False)]),
        ]
    )

    assert settle(rds, "c", "w", lambda seconds: None)["writer"] == "w"
    assert rds.failovers == ["w"]


def test_the_script_gives_up_after_its_polls_so_the_step_fails() -> None:
    rds = FakeRds([("available", [("w", True), (f"{AUTOSCALED_PREFIX}x", False)])])

    with pytest.raises(TimeoutError, match="auto-scaled readers"):
        settle(rds, "c", "", lambda seconds: None, polls=3)
