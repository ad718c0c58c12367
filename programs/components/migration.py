"""Moving the single box's database into Aurora (0 -> 1) and back onto the box (1 -> 0).

At tier 0 the database runs on the box. The step to tier 1 gives the box an instance role that
Systems Manager and the cluster's secret accept, and an SSM association runs a document on it
(move_scripts.py): stop the web server, dump the box's databases, load them into the writer,
verify, point the app at the writer, stop the box's server for good. The step back to tier 0
first snapshots the cluster (kept when the environment moves on), then runs the way back: the
writer's databases onto the box, verified, the app pointed at the box. Pulumi waits for each
association to succeed and deletes what a step removes (the cluster, with its final snapshot)
only after that, so a failed move fails the step before anything is deleted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from programs.components.iam import assume_role_policy
from programs.components.move_scripts import move_back_script, move_up_script
from programs.naming import (
    CLUSTER_SNAPSHOT_IDENTIFIER_MAX,
    IAM_ROLE_NAME_MAX,
    exact_name,
    fitted_name,
)

# Dump and load of a first-users database: minutes. Longer means the move failed.
MOVE_TIMEOUT_SECONDS = 30 * 60
SSM_CORE_POLICY = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"


class BoxAccess(pulumi.ComponentResource):
    """The box's instance role while it serves on its own (tiers 1 to 3, and tier 0 while the
    data comes back): Systems Manager can run commands on it. The session store's role takes
    over at tier 4."""

    role_id: pulumi.Output[str]
    instance_profile_name: pulumi.Output[str]

    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("stepladder:migration:BoxAccess", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(
            f"{name}-role",
            name=fitted_name(f"{name}-role", IAM_ROLE_NAME_MAX),
            assume_role_policy=assume_role_policy("ec2.amazonaws.com"),
            opts=child,
        )
        aws.iam.RolePolicyAttachment(
            f"{name}-ssm", role=role.name, policy_arn=SSM_CORE_POLICY, opts=child
        )
        profile = aws.iam.InstanceProfile(f"{name}-profile", role=role.name, opts=child)
        self.role_id = role.id
        self.instance_profile_name = profile.name
        self.register_outputs({"instance_profile_name": self.instance_profile_name})


@dataclass(frozen=True)
class DatabaseMoveArgs:
    instance_id: pulumi.Input[str]
    role_id: pulumi.Input[str]
    writer_endpoint: pulumi.Input[str]
    master_secret_arn: pulumi.Input[str]
    master_username: str
    engine: str


class DatabaseMove(pulumi.ComponentResource):
    """0 -> 1: the box's databases into the Aurora writer."""

    def __init__(
        self, name: str, args: DatabaseMoveArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("stepladder:migration:DatabaseMove", name, None, opts)
        _run_on_box(
            self,
            name,
            args,
            description="Move the box's databases into the Aurora writer",
            script=move_up_script(args.engine),
        )
        self.register_outputs({})


@dataclass(frozen=True)
class DatabaseReturnArgs:
    move: DatabaseMoveArgs
    # The cluster the data leaves, and a name for the snapshot taken of it first.
    cluster_identifier: str
    snapshot_identifier: str


class DatabaseReturn(pulumi.ComponentResource):
    """1 -> 0: a snapshot of the cluster, then the writer's databases onto the box."""

    def __init__(
        self, name: str, args: DatabaseReturnArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("stepladder:migration:DatabaseReturn", name, None, opts)
        snapshot = aws.rds.ClusterSnapshot(
            f"{name}-snapshot",
            db_cluster_identifier=args.cluster_identifier,
            db_cluster_snapshot_identifier=args.snapshot_identifier,
            # The snapshot outlives the step: the next step forgets it, AWS keeps it.
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True),
        )
        _run_on_box(
            self,
            name,
            args.move,
            description="Move the Aurora writer's databases back onto the box",
            script=move_back_script(args.move.engine),
            after=[snapshot],
        )
        self.register_outputs({"snapshot_identifier": snapshot.db_cluster_snapshot_identifier})


def return_snapshot_identifier(cluster_identifier: str, stamp: str) -> str:
    """Unique per cluster and per step (the operation's stamp)."""
    return exact_name(f"{cluster_identifier}-before-box-{stamp}", CLUSTER_SNAPSHOT_IDENTIFIER_MAX)


def _run_on_box(
    parent: pulumi.ComponentResource,
    name: str,
    args: DatabaseMoveArgs,
    *,
    description: str,
    script: str,
    after: list[pulumi.Resource] | None = None,
) -> None:
    """An SSM document running `script` on the box, and an association Pulumi waits for."""
    child = pulumi.ResourceOptions(parent=parent)
    secret_read = aws.iam.RolePolicy(
        f"{name}-secret-read",
        role=args.role_id,
        policy=pulumi.Output.from_input(args.master_secret_arn).apply(_secret_read_policy),
        opts=child,
    )
    document = aws.ssm.Document(
        f"{name}-document",
        document_type="Command",
        document_format="JSON",
        content=json.dumps(
            {
                "schemaVersion": "2.2",
                "description": description,
                "parameters": {
                    "Writer": {"type": "String"},
                    "SecretArn": {"type": "String"},
                    "Username": {"type": "String"},
                },
                "mainSteps": [
                    {
                        "action": "aws:runShellScript",
                        "name": "moveDatabase",
                        "inputs": {
                            "runCommand": [script],
                            "timeoutSeconds": str(MOVE_TIMEOUT_SECONDS),
                        },
                    }
                ],
            }
        ),
        opts=child,
    )
    aws.ssm.Association(
        f"{name}-run",
        name=document.name,
        targets=[{"key": "InstanceIds", "values": [args.instance_id]}],
        parameters={
            "Writer": args.writer_endpoint,
            "SecretArn": args.master_secret_arn,
            "Username": args.master_username,
        },
        # The step waits for the move; a failed move fails it before anything is deleted.
        wait_for_success_timeout_seconds=MOVE_TIMEOUT_SECONDS,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[secret_read, *(after or [])]),
    )


def _secret_read_policy(secret_arn: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "secretsmanager:GetSecretValue",
                    "Resource": secret_arn,
                }
            ],
        }
    )
