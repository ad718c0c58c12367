"""An environment in another AWS account: the role its provider assumes, validated, shown in
the plan, fixed while deployed, and handed to the provider (never a credential)."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from programs import EnvironmentSpec
from service.engines.simulator import run_program
from tests.helpers import create_environment, run

ROLE = "arn:aws:iam::123456789012:role/stepladder/deployer"


def test_a_role_that_is_not_an_iam_role_arn_is_422_naming_the_field(client: TestClient) -> None:
    for wrong in ("deployer", "arn:aws:iam::12345:role/x", "arn:aws:s3:::bucket"):
        response = client.post(
            "/api/environments",
            json={"name": "shop", "region": "eu-west-1", "assume_role_arn": wrong},
        )
        assert response.status_code == 422, wrong
        assert response.json()["fields"][0]["field"] == "assume_role_arn"
        assert "IAM role ARN" in response.json()["fields"][0]["rule"]


def test_the_role_is_kept_shown_in_plans_and_fixed_while_deployed(client: TestClient) -> None:
    created = create_environment(client, "shop", assume_role_arn=ROLE)
    assert created["assume_role_arn"] == ROLE
    run(client, "/api/environments/shop/promote")
    # A plan of a step down (here planned for an approval) names the account it acts in.
    client.patch("/api/environments/shop", json={"protected": True})
    operator = client.post("/api/tokens", json={"name": "olga", "role": "operator"}).json()
    asked = client.post(
        "/api/environments/shop/promote",
        headers={"Authorization": f"Bearer {operator['token']}"},
    ).json()
    assert asked["status"] == "awaiting_approval"
    assert asked["plan"]["assume_role_arn"] == ROLE

    moved = client.patch(
        "/api/environments/shop",
        json={"assume_role_arn": "arn:aws:iam::210987654321:role/deployer"},
    )
    assert moved.status_code == 409
    assert moved.json()["detail"].startswith("assume_role_arn:")


def test_every_provider_of_the_stack_assumes_the_role() -> None:
    spec = EnvironmentSpec(
        name="shop",
        tier=7,
        region="eu-west-1",
        secondary_region="eu-central-1",
        db_instance_class="db.r6g.large",
        assume_role_arn=ROLE,
    )
    declared, _, _ = run_program(spec, [])

    providers = [r for r in declared if r.type == "pulumi:providers:aws"]
    assert {p.inputs["region"] for p in providers} >= {"eu-west-1", "eu-central-1"}
    for provider in providers:
        # Provider configuration travels as JSON text, in the provider's own (camelCase) keys.
        assert json.loads(provider.inputs["assumeRoles"]) == [
            {"roleArn": ROLE, "sessionName": "stepladder-shop"}
        ], provider.name
    assert not any("accessKey" in p.inputs or "secretKey" in p.inputs for p in providers)
