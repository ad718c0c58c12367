"""One AWS account per environment, through the real engine: a definition's role reaches the
`aws` provider as the role it assumes (typed `assumeRoles`, not keys it would ignore), so every
resource is created as that role; a definition without one uses the service's own credentials.
The simulated plugin records, per resource, whom the provider acted as."""

from __future__ import annotations

from pathlib import Path

from programs import EnvironmentSpec
from service.engines.pulumi_backend import StateBackend
from tests.integration.aws_plugin.cloud import SimulatedAccount
from tests.integration.test_program_idempotence import step

ROLE = "arn:aws:iam::222222222222:role/stepladder-deployer"


def test_each_resource_is_created_as_the_definitions_role_and_without_one_as_the_service(
    simulated_aws: SimulatedAccount, tmp_path: Path
) -> None:
    files = StateBackend(f"file://{tmp_path / 'state'}")
    with_role = EnvironmentSpec(name="staging", tier=0, region="eu-west-1", assume_role_arn=ROLE)
    without = EnvironmentSpec(name="shared", tier=0, region="eu-west-1")

    assert step(files, "up", with_role)
    assert step(files, "up", without)

    records = simulated_aws.records()
    staging = [record["created_as"] for record in records if record["name"].startswith("staging")]
    shared = [record["created_as"] for record in records if record["name"].startswith("shared")]
    assert staging and shared
    assert all(who == {"roleArn": ROLE, "sessionName": "stepladder-staging"} for who in staging)
    assert all(who is None for who in shared)
