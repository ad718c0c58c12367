"""The step 0 -> 1 moves the box's database into Aurora, and fails if the move fails."""

from __future__ import annotations

import dataclasses
import json

from tests.programs.conftest import SPEC, declare
from tests.programs.lookalike import run_build

SINGLE_REGION = dataclasses.replace(SPEC, secondary_region=None)
ASSOCIATION = "aws:ssm/association:Association"
MOVE = "acme-database-move-run"


def test_the_step_to_1_runs_the_move_on_the_box_and_waits_for_it() -> None:
    recorded = run_build(SINGLE_REGION.at_tier(1))

    association = recorded.named(MOVE)
    assert association["targets"] == [{"key": "InstanceIds", "values": ["acme-web-0-id"]}]
    assert association["waitForSuccessTimeoutSeconds"] > 0
    assert association["parameters"]["Username"] == "stepladder"
    document = recorded.named("acme-database-move-document")
    script = json.loads(document["content"])["mainSteps"][0]["inputs"]["runCommand"][0]
    assert "mysqldump" in script and "{{ Writer }}" in script
    # Once moved, never again: a re-run must not overwrite Aurora with the box's old copy.
    assert script.index("database-moved") < script.index("mysqldump")
    assert "acme-database-move-secret-read" in recorded.depends_on["acme-database-move-run"]


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


def test_no_move_where_there_is_nothing_to_move() -> None:
    postgres = dataclasses.replace(SINGLE_REGION, db_engine="aurora-postgresql", tier=1)
    for spec in (SINGLE_REGION.at_tier(0), SINGLE_REGION.at_tier(4), postgres):
        assert [r.name for r in declare(spec).of_type(ASSOCIATION) if r.name == MOVE] == []
