"""The box's database moves into Aurora at 0 -> 1 and back onto the box at 1 -> 0, for both
engines, with each engine's own tools; a failed or unverified move fails the step before
anything is deleted."""

from __future__ import annotations

import dataclasses
import json
import subprocess
from collections import Counter
from typing import Any

import pytest

from programs.components.move_scripts import ENGINE_MOVES, move_back_script, move_up_script
from service.engines.diffing import diff_resources
from tests.programs.conftest import SPEC, declare
from tests.programs.lookalike import run_build

SINGLE_REGION = dataclasses.replace(SPEC, secondary_region=None)
POSTGRES = dataclasses.replace(SINGLE_REGION, db_engine="aurora-postgresql")
ASSOCIATION = "aws:ssm/association:Association"
MOVE = "acme-database-move-run"
RETURN = "acme-database-return-run"
# Tier 0 as the service builds it for the step down from tier 1 (planning.deployed_database).
RETURNING = dataclasses.replace(
    SINGLE_REGION,
    tier=0,
    snapshot_stamp="20260101-120000",
    returning_cluster_identifier="acme-aurora-cluster-1a2b3c4",
    returning_writer_endpoint="acme-aurora-cluster.cluster-x.eu-west-1.rds.amazonaws.com",
    returning_secret_arn="arn:aws:secretsmanager:eu-west-1:111122223333:secret:rds!cluster-1",
)


def _script(recorded_document: dict[str, Any]) -> str:
    content = json.loads(recorded_document["content"])
    return str(content["mainSteps"][0]["inputs"]["runCommand"][0])


def test_the_step_to_1_runs_the_move_on_the_box_and_waits_for_it() -> None:
    recorded = run_build(SINGLE_REGION.at_tier(1))

    association = recorded.named(MOVE)
    assert association["targets"] == [{"key": "InstanceIds", "values": ["acme-web-0-id"]}]
    assert association["waitForSuccessTimeoutSeconds"] > 0
    assert association["parameters"]["Username"] == "stepladder"
    script = _script(recorded.named("acme-database-move-document"))
    assert "mysqldump" in script and "{{ Writer }}" in script
    # Once moved, never again: a re-run must not overwrite Aurora with the box's old copy.
    assert script.index("database-moved") < script.index("mysqldump")
    assert "acme-database-move-secret-read" in recorded.depends_on[MOVE]


def test_the_box_gets_ssm_and_may_read_only_the_clusters_secret() -> None:
    declared = declare(SINGLE_REGION.at_tier(1))

    box = declared.inputs("acme-web-0")
    assert "iamInstanceProfile" in box
    assert declared.inputs("acme-box-ssm")["policyArn"].endswith("AmazonSSMManagedInstanceCore")
    policy = json.loads(declared.inputs("acme-database-move-secret-read")["policy"])
    assert policy["Statement"][0]["Action"] == "secretsmanager:GetSecretValue"


def test_the_owned_secret_is_the_one_the_move_reads() -> None:
    recorded = run_build(dataclasses.replace(SPEC, tier=1))

    assert (
        recorded.named(MOVE)["parameters"]["SecretArn"]
        == "arn:aws:sim:::acme-aurora-master-password"
    )


def test_postgresql_moves_with_its_own_server_tools_and_port() -> None:
    box = run_build(POSTGRES.at_tier(0))
    moved = run_build(POSTGRES.at_tier(1))

    assert "postgresql16-server" in box.named("acme-web-0")["userData"]
    assert "mariadb" not in box.named("acme-web-0")["userData"]
    script = _script(moved.named("acme-database-move-document"))
    assert "pg_dump" in script and "pg_restore" in script and "mysqldump" not in script
    assert moved.named(MOVE)["targets"] == [{"key": "InstanceIds", "values": ["acme-web-0-id"]}]
    rule = moved.named("acme-aurora-in-from-web")
    assert (rule["fromPort"], rule["toPort"]) == (5432, 5432)


def test_no_move_where_there_is_nothing_to_move() -> None:
    for spec in (SINGLE_REGION.at_tier(0), SINGLE_REGION.at_tier(4)):
        names = [r.name for r in declare(spec).of_type(ASSOCIATION)]
        assert MOVE not in names and RETURN not in names


def test_the_step_back_to_0_snapshots_the_cluster_then_moves_the_data_back() -> None:
    recorded = run_build(RETURNING)

    snapshot = recorded.named("acme-database-return-snapshot")
    assert snapshot["dbClusterIdentifier"] == "acme-aurora-cluster-1a2b3c4"
    assert snapshot["dbClusterSnapshotIdentifier"] == (
        "acme-aurora-cluster-1a2b3c4-before-box-20260101-120000"
    )
    # The next step forgets the snapshot without deleting it.
    assert "acme-database-return-snapshot" in recorded.retained
    association = recorded.named(RETURN)
    assert association["targets"] == [{"key": "InstanceIds", "values": ["acme-web-0-id"]}]
    assert association["waitForSuccessTimeoutSeconds"] > 0
    assert association["parameters"] == {
        "Writer": RETURNING.returning_writer_endpoint,
        "SecretArn": RETURNING.returning_secret_arn,
        "Username": "stepladder",
    }
    # Snapshot first, and the box may read the secret before the move starts.
    assert {"acme-database-return-snapshot", "acme-database-return-secret-read"} <= (
        recorded.depends_on[RETURN]
    )
    # The box keeps Systems Manager's role while the data comes back; it runs the database.
    assert "iamInstanceProfile" in declare(RETURNING).inputs("acme-web-0")
    assert "mariadb105-server" in recorded.named("acme-web-0")["userData"]
    script = _script(recorded.named("acme-database-return-document"))
    assert script.index("database-returned") < script.index("mysqldump")


def test_the_step_back_declares_no_cluster_so_pulumi_deletes_it_after_the_move() -> None:
    declared = declare(RETURNING)

    assert declared.of_type("aws:rds/cluster:Cluster") == []
    assert [r.name for r in declared.of_type(ASSOCIATION)] == [RETURN]


def test_the_step_back_deletes_the_cluster_replaces_nothing_and_adds_only_the_way_back() -> None:
    before, after = declare(SINGLE_REGION.at_tier(1)), declare(RETURNING)

    changes = diff_resources(before.resources, after.resources, after.options)

    def of(op: str) -> Counter[str]:
        return Counter(c.type for c in changes if c.op == op and c.type.startswith("aws:"))

    assert of("replace") == Counter()
    assert of("delete")["aws:rds/cluster:Cluster"] == 1
    assert of("create") == Counter(
        {
            "aws:rds/clusterSnapshot:ClusterSnapshot": 1,
            "aws:iam/rolePolicy:RolePolicy": 1,
            "aws:ssm/document:Document": 1,
            "aws:ssm/association:Association": 1,
        }
    )


def test_the_step_back_refuses_without_the_clusters_address() -> None:
    blind = dataclasses.replace(RETURNING, returning_writer_endpoint=None)

    with pytest.raises(Exception, match="moves the database back onto the box"):
        run_build(blind)


@pytest.mark.parametrize("engine", sorted(ENGINE_MOVES))
def test_each_move_verifies_the_copy_before_it_switches_the_app(engine: str) -> None:
    for script, marker in ((move_up_script(engine), "database-moved"),
                           (move_back_script(engine), "database-returned")):  # fmt: skip
        verify = script.index("row_counts box_sql")
        assert script.index("systemctl stop nginx") < verify
        assert verify < script.index("/etc/stepladder/database.env")
        assert script.rindex(f'touch "$state/{marker}"') > verify
        # On failure the trap brings the site back on the database it used before.
        assert "trap 'systemctl start nginx' EXIT" in script


def test_the_way_back_keeps_the_boxs_older_copy_before_it_loads() -> None:
    for engine in ENGINE_MOVES:
        script = move_back_script(engine)
        assert script.index("box-before-return-") < script.index("DROP DATABASE")


@pytest.mark.parametrize("engine", sorted(ENGINE_MOVES))
def test_every_script_is_valid_bash(engine: str) -> None:
    for script in (move_up_script(engine), move_back_script(engine)):
        checked = subprocess.run(
            ["bash", "-n"], input=script, capture_output=True, text=True, check=False
        )
        assert checked.returncode == 0, checked.stderr
