"""Moving the single box's database into Aurora (the step 0 -> 1).

At tier 0 MariaDB runs on the box. The step to tier 1 gives the box an instance role that
Systems Manager and the cluster's secret accept, and an SSM association runs a document on
it: stop the web server, dump the local databases, load them into the writer, point the app
at the writer, stop MariaDB for good. Pulumi waits for the association to succeed, so a failed
move fails the step before anything is deleted. A marker file makes the document a no-op once
it has run, so a re-run can never overwrite Aurora with the box's stale copy.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from programs.components.iam import assume_role_policy
from programs.naming import IAM_ROLE_NAME_MAX, fitted_name

# Dump and load of a first-users database: minutes. Longer means the move failed.
MOVE_TIMEOUT_SECONDS = 30 * 60
SSM_CORE_POLICY = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"

MOVE_SCRIPT = r"""set -euo pipefail
state=/var/lib/stepladder
mkdir -p "$state" /etc/stepladder
if [ -e "$state/database-moved" ]; then echo "moved before: nothing to do"; exit 0; fi
if ! systemctl is-active --quiet mariadb; then touch "$state/database-moved"; exit 0; fi
password=$(aws secretsmanager get-secret-value --secret-id '{{ SecretArn }}' \
  --query SecretString --output text \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["password"])')
databases=$(mysql -N -e "SELECT schema_name FROM information_schema.schemata WHERE schema_name \
  NOT IN ('mysql','information_schema','performance_schema','sys')")
systemctl stop nginx
if [ -n "$databases" ]; then
  mysqldump --single-transaction --routines --triggers --databases $databases > "$state/move.sql"
  MYSQL_PWD="$password" mysql -h '{{ Writer }}' -u '{{ Username }}' < "$state/move.sql"
fi
printf 'DATABASE_HOST=%s\nDATABASE_SECRET_ARN=%s\n' '{{ Writer }}' '{{ SecretArn }}' \
  > /etc/stepladder/database.env
systemctl disable --now mariadb
touch "$state/database-moved"
systemctl start nginx
"""


class BoxAccess(pulumi.ComponentResource):
    """The box's instance role while it serves on its own (tiers 1 to 3): Systems Manager
    can run commands on it. The session store's role takes over at tier 4."""

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


class DatabaseMove(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: DatabaseMoveArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("stepladder:migration:DatabaseMove", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

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
                    "description": "Move the box's MariaDB databases into the Aurora writer",
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
                                "runCommand": [MOVE_SCRIPT],
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
            opts=pulumi.ResourceOptions(parent=self, depends_on=[secret_read]),
        )
        self.register_outputs({})


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
