"""The master password Stepladder owns for a multi-region definition (tier 7's global database).

AWS refuses a managed master password in an Aurora Global Database, so such a definition keeps
the primary cluster's password in a secret of its own. The password is generated in AWS and
passed write-only: it never enters Pulumi state, Stepladder's database or its events. At tier 7
the secret is replicated to the secondary region, where the global database fails over to. AWS's
own single-user rotation function for the engine (Serverless Application Repository) rotates it
every 30 days: it sets a new password on the cluster and stages it in the secret, so a reader
never gets a password the cluster does not have. Pulumi sends its own value only when
PASSWORD_VERSION changes, so rotation and the program never fight.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from programs.components.network import VPC_CIDR
from programs.naming import exact_name

MASTER_USERNAME = "stepladder"
# 2: the secret also names what the rotation function connects with (engine, host, port, the
# cluster); the cluster and the secret take a new password together in the update that brings it.
PASSWORD_VERSION = 2
# The `engine` value AWS's rotation functions expect in the secret.
SECRET_ENGINES = {"aurora-mysql": "mysql", "aurora-postgresql": "postgres"}
ROTATION_APPLICATIONS = {
    "aurora-mysql": "SecretsManagerRDSMySQLRotationSingleUser",
    "aurora-postgresql": "SecretsManagerRDSPostgreSQLRotationSingleUser",
}
ROTATION_APPLICATION_ARN = "arn:aws:serverlessrepo:us-east-1:297356227824:applications/{}"
# Pinned, so a new release of AWS's function never changes an environment unasked.
ROTATION_APPLICATION_VERSION = "1.1.618"
ROTATION_DAYS = 30
LAMBDA_FUNCTION_NAME_MAX = 64
HTTPS = 443


@dataclass(frozen=True)
class OwnedPassword:
    # What the cluster takes instead of a managed password.
    cluster_arguments: dict[str, Any]
    secret: aws.secretsmanager.Secret
    value: pulumi.Output[Any]


def owned_master_password(
    name: str, opts: pulumi.ResourceOptions, replica_region: str | None
) -> OwnedPassword:
    """The secret (replicated to `replica_region` when set) and a password generated in AWS."""
    generated = aws.secretsmanager.get_random_password_output(
        password_length=40,
        exclude_punctuation=True,
        opts=pulumi.InvokeOutputOptions(parent=opts.parent),
    )
    value = pulumi.Output.secret(generated.random_password)
    secret = aws.secretsmanager.Secret(
        f"{name}-master-password",
        description=f"{name}: Aurora master user (Stepladder-owned, for the global database)",
        replicas=[{"region": replica_region}] if replica_region else None,
        opts=opts,
    )
    arguments = {
        "manage_master_user_password": False,
        "master_password_wo": value,
        "master_password_wo_version": PASSWORD_VERSION,
    }
    return OwnedPassword(arguments, secret, value)


def store_master_password(
    name: str,
    owned: OwnedPassword,
    cluster: aws.rds.Cluster,
    engine: str,
    port: int,
    opts: pulumi.ResourceOptions,
) -> aws.secretsmanager.SecretVersion:
    """The secret's value: the password and what the rotation function connects with."""
    value = pulumi.Output.all(owned.value, cluster.endpoint, cluster.id).apply(
        lambda parts: json.dumps(
            {
                "engine": SECRET_ENGINES[engine],
                "host": parts[1],
                "port": port,
                "username": MASTER_USERNAME,
                "password": parts[0],
                "dbClusterIdentifier": parts[2],
            }
        )
    )
    return aws.secretsmanager.SecretVersion(
        f"{name}-master-password-value",
        secret_id=owned.secret.id,
        secret_string_wo=value,
        secret_string_wo_version=PASSWORD_VERSION,
        opts=opts,
    )


@dataclass(frozen=True)
class PasswordRotationArgs:
    secret_id: pulumi.Input[str]
    # The secret holds a value the function can use only once this exists.
    secret_value: pulumi.Resource
    engine: str
    region: str
    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    database_security_group_id: pulumi.Input[str]
    port: int


class PasswordRotation(pulumi.ComponentResource):
    """AWS's rotation function in the cluster's private subnets. Those have no route out, so
    the function reaches Secrets Manager through an interface endpoint in the VPC."""

    def __init__(
        self, name: str, args: PasswordRotationArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("stepladder:data:PasswordRotation", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        function_group = aws.ec2.SecurityGroup(
            f"{name}-sg", vpc_id=args.vpc_id, description="Password rotation function", opts=child
        )
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-egress",
            security_group_id=function_group.id,
            ip_protocol="-1",
            cidr_ipv4="0.0.0.0/0",
            opts=child,
        )
        to_database = aws.vpc.SecurityGroupIngressRule(
            f"{name}-to-database",
            security_group_id=args.database_security_group_id,
            ip_protocol="tcp",
            from_port=args.port,
            to_port=args.port,
            referenced_security_group_id=function_group.id,
            opts=child,
        )
        endpoint_group = aws.ec2.SecurityGroup(
            f"{name}-endpoint-sg",
            vpc_id=args.vpc_id,
            description="Secrets Manager endpoint",
            opts=child,
        )
        # With private DNS the endpoint answers for Secrets Manager across the VPC: the box and
        # the web servers read their secrets through it too (IAM still decides what they read).
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-endpoint-in",
            security_group_id=endpoint_group.id,
            ip_protocol="tcp",
            from_port=HTTPS,
            to_port=HTTPS,
            cidr_ipv4=VPC_CIDR,
            opts=child,
        )
        endpoint = aws.ec2.VpcEndpoint(
            f"{name}-secretsmanager",
            vpc_id=args.vpc_id,
            service_name=f"com.amazonaws.{args.region}.secretsmanager",
            vpc_endpoint_type="Interface",
            subnet_ids=list(args.subnet_ids),
            security_group_ids=[endpoint_group.id],
            private_dns_enabled=True,
            opts=child,
        )
        function = aws.serverlessrepository.CloudFormationStack(
            f"{name}-function",
            application_id=ROTATION_APPLICATION_ARN.format(ROTATION_APPLICATIONS[args.engine]),
            semantic_version=ROTATION_APPLICATION_VERSION,
            capabilities=["CAPABILITY_IAM", "CAPABILITY_RESOURCE_POLICY"],
            parameters={
                "endpoint": f"https://secretsmanager.{args.region}.amazonaws.com",
                "functionName": exact_name(name, LAMBDA_FUNCTION_NAME_MAX),
                "vpcSubnetIds": pulumi.Output.all(*args.subnet_ids).apply(",".join),
                "vpcSecurityGroupIds": function_group.id,
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[endpoint]),
        )
        aws.secretsmanager.SecretRotation(
            f"{name}-schedule",
            secret_id=args.secret_id,
            rotation_lambda_arn=function.outputs.apply(lambda stack: stack["RotationLambdaARN"]),
            rotation_rules={"automatically_after_days": ROTATION_DAYS},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[to_database, args.secret_value]),
        )
        self.register_outputs({})
