"""Settling an Aurora cluster's replicas before a step down deletes what holds them.

An SSM Automation runs `programs/scripts/settle_replicas.py` in AWS; its association is created
by the step and Pulumi waits for it to succeed. Pulumi deletes what a step removes only after
everything the step creates, so the standby, the fixed readers and the scaling target go after
the wait, and a failed or timed-out wait fails the step before anything is deleted.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from programs.components.iam import assume_role_policy
from programs.naming import IAM_ROLE_NAME_MAX, fitted_name
from programs.scripts import settle_replicas

SCRIPT = Path(settle_replicas.__file__).read_text()
STEP_TIMEOUT_SECONDS = 600  # aws:executeScript's own limit
STEP_ATTEMPTS = 3
WAIT_SECONDS = STEP_TIMEOUT_SECONDS * STEP_ATTEMPTS + 300


@dataclass(frozen=True)
class ReplicaSettlingArgs:
    cluster_identifier: pulumi.Input[str]
    cluster_arn: pulumi.Input[str]
    # Set: the step deletes the standby, so this instance becomes the writer again. Either
    # way the readers replica auto scaling created must be gone (its target is capped).
    writer_identifier: pulumi.Input[str] | None = None
    # What must change before the wait starts (the capped scaling target).
    after: Sequence[pulumi.Resource] = ()


class ReplicaSettling(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: ReplicaSettlingArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("stepladder:replicas:ReplicaSettling", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(
            f"{name}-role",
            name=fitted_name(f"{name}-role", IAM_ROLE_NAME_MAX),
            assume_role_policy=assume_role_policy("ssm.amazonaws.com"),
            opts=child,
        )
        access = aws.iam.RolePolicy(
            f"{name}-access",
            role=role.id,
            policy=pulumi.Output.from_input(args.cluster_arn).apply(_cluster_policy),
            opts=child,
        )
        document = aws.ssm.Document(
            f"{name}-document",
            document_type="Automation",
            document_format="JSON",
            content=json.dumps(_automation()),
            opts=child,
        )
        # Each purpose is its own association, so each step that needs it creates it anew
        # (an association runs, and is waited for, when it is created).
        purpose = "drain" if args.writer_identifier is None else "failover"
        aws.ssm.Association(
            f"{name}-{purpose}",
            name=document.name,
            parameters={
                "ClusterId": args.cluster_identifier,
                "WriterId": args.writer_identifier or "",
                "AutomationAssumeRole": role.arn,
            },
            wait_for_success_timeout_seconds=WAIT_SECONDS,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[access, *args.after]),
        )
        self.register_outputs({})


def _automation() -> dict[str, Any]:
    return {
        "schemaVersion": "0.3",
        "description": "Wait until Aurora auto scaling's readers are gone and the writer is "
        "the one Stepladder names",
        "assumeRole": "{{ AutomationAssumeRole }}",
        "parameters": {
            "ClusterId": {"type": "String"},
            "WriterId": {"type": "String", "default": ""},
            "AutomationAssumeRole": {"type": "String"},
        },
        "mainSteps": [
            {
                "name": "settleReplicas",
                "action": "aws:executeScript",
                "timeoutSeconds": STEP_TIMEOUT_SECONDS,
                "maxAttempts": STEP_ATTEMPTS,
                "inputs": {
                    "Runtime": "python3.11",
                    "Handler": "handler",
                    "Script": SCRIPT,
                    "InputPayload": {"ClusterId": "{{ ClusterId }}", "WriterId": "{{ WriterId }}"},
                },
            }
        ],
    }


def _cluster_policy(cluster_arn: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["rds:DescribeDBClusters", "rds:FailoverDBCluster"],
                    "Resource": cluster_arn,
                }
            ],
        }
    )
