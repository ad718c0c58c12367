"""Tier 7's master password: a secret Stepladder owns (AWS refuses a managed one in a global
database), replicated to the secondary region and rotated by AWS's own rotation function."""

from __future__ import annotations

import dataclasses
import json

import pytest

from service.engines.secrets import SECRET_SIGNATURE_KEY
from tests.programs.conftest import SPEC, declare
from tests.programs.lookalike import run_build

TIER_7 = dataclasses.replace(SPEC, tier=7)
ROTATION = "aws:secretsmanager/secretRotation:SecretRotation"
FUNCTION = "acme-aurora-rotation-function"


def test_the_owned_secret_is_replicated_to_the_secondary_region_at_tier_7() -> None:
    assert run_build(TIER_7).named("acme-aurora-master-password")["replicas"] == [
        {"region": "us-east-1"}
    ]
    below = run_build(TIER_7.at_tier(6)).named("acme-aurora-master-password")
    assert not below.get("replicas")


@pytest.mark.parametrize(
    ("engine", "application", "port"),
    [
        ("aurora-mysql", "SecretsManagerRDSMySQLRotationSingleUser", 3306),
        ("aurora-postgresql", "SecretsManagerRDSPostgreSQLRotationSingleUser", 5432),
    ],
)
def test_aws_rotation_function_for_the_engine_rotates_the_secret_every_30_days(
    engine: str, application: str, port: int
) -> None:
    recorded = run_build(dataclasses.replace(TIER_7, db_engine=engine))

    stack = recorded.named(FUNCTION)
    assert stack["applicationId"] == (
        f"arn:aws:serverlessrepo:us-east-1:297356227824:applications/{application}"
    )
    assert stack["semanticVersion"]  # pinned: a new release never changes an environment unasked
    assert stack["parameters"]["vpcSubnetIds"] == "acme-private-0-id,acme-private-1-id"
    assert stack["parameters"]["endpoint"] == "https://secretsmanager.eu-west-1.amazonaws.com"
    rotation = recorded.named("acme-aurora-rotation-schedule")
    assert rotation["secretId"] == "acme-aurora-master-password-id"
    assert rotation["rotationLambdaArn"].endswith(stack["parameters"]["functionName"])
    assert rotation["rotationRules"] == {"automaticallyAfterDays": 30}
    # The function may reach the cluster, and rotates only once the secret holds a value.
    to_database = recorded.named("acme-aurora-rotation-to-database")
    assert to_database["securityGroupId"] == "acme-aurora-sg-id"
    assert (to_database["fromPort"], to_database["toPort"]) == (port, port)
    assert {"acme-aurora-rotation-to-database", "acme-aurora-master-password-value"} <= (
        recorded.depends_on["acme-aurora-rotation-schedule"]
    )


def test_the_function_reaches_secrets_manager_from_private_subnets_through_an_endpoint() -> None:
    recorded = run_build(TIER_7)

    endpoint = recorded.named("acme-aurora-rotation-secretsmanager")
    assert endpoint["serviceName"] == "com.amazonaws.eu-west-1.secretsmanager"
    assert endpoint["vpcEndpointType"] == "Interface"
    assert endpoint["privateDnsEnabled"] is True
    assert endpoint["subnetIds"] == ["acme-private-0-id", "acme-private-1-id"]
    assert "acme-aurora-rotation-secretsmanager" in recorded.depends_on[FUNCTION]
    # Private DNS sends the whole VPC's Secrets Manager calls there: the box's move included.
    assert recorded.named("acme-aurora-rotation-endpoint-in")["cidrIpv4"] == "10.0.0.0/16"


def test_the_secret_names_what_the_rotation_function_connects_with() -> None:
    recorded = run_build(dataclasses.replace(TIER_7, db_engine="aurora-postgresql"))

    stored = recorded.named("acme-aurora-master-password-value")["secretStringWo"]
    assert SECRET_SIGNATURE_KEY in stored  # still a Pulumi secret: never shown, never stored
    value = json.loads(stored["value"])
    assert value["engine"] == "postgres" and value["port"] == 5432
    assert value["username"] == "stepladder" and value["password"] == "generated-in-aws"
    assert value["dbClusterIdentifier"] == "acme-aurora-cluster-id"
    assert "host" in value


def test_a_single_region_definition_leaves_password_and_rotation_to_aws() -> None:
    declared = declare(dataclasses.replace(TIER_7, tier=6, secondary_region=None))

    assert declared.of_type(ROTATION) == []
    assert declared.one("aws:rds/cluster:Cluster").inputs["manageMasterUserPassword"] is True
