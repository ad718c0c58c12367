"""Loosely coupled services (tier 6): an SQS work queue with a dead-letter queue, drained by a
Lambda worker, and an alarm when messages land in the dead-letter queue."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from programs.components.iam import assume_role_policy
from programs.naming import IAM_ROLE_NAME_MAX, fitted_name

MAX_RECEIVES_BEFORE_DEAD_LETTER = 5
LAMBDA_TIMEOUT_SECONDS = 30
# Lambda takes more than 10 SQS messages per batch only with a batching window.
UNWINDOWED_BATCH_MAX = 10
BATCHING_WINDOW_SECONDS = 5

WORKER_HANDLER = """import json


def handler(event, context):
    for record in event.get("Records", []):
        print(json.dumps({"message_id": record["messageId"], "size": len(record["body"])}))
    return {"processed": len(event.get("Records", []))}
"""


@dataclass(frozen=True)
class WorkQueueArgs:
    function_name: str
    memory_mb: int
    batch_size: int
    alarm_topic_arn: pulumi.Input[str]
    protected: bool


class WorkQueue(pulumi.ComponentResource):
    queue_url: pulumi.Output[str]
    function_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: WorkQueueArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("stepladder:decoupling:WorkQueue", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        stateful = pulumi.ResourceOptions(parent=self, protect=args.protected)

        window = BATCHING_WINDOW_SECONDS if args.batch_size > UNWINDOWED_BATCH_MAX else None
        dead_letters = aws.sqs.Queue(
            f"{name}-dlq", message_retention_seconds=14 * 24 * 3600, opts=stateful
        )
        queue = aws.sqs.Queue(
            f"{name}-queue",
            # AWS: six times the function's timeout, plus the batching window.
            visibility_timeout_seconds=LAMBDA_TIMEOUT_SECONDS * 6 + (window or 0),
            redrive_policy=dead_letters.arn.apply(
                lambda arn: json.dumps(
                    {"deadLetterTargetArn": arn, "maxReceiveCount": MAX_RECEIVES_BEFORE_DEAD_LETTER}
                )
            ),
            opts=stateful,
        )

        role = aws.iam.Role(
            f"{name}-worker-role",
            name=fitted_name(f"{name}-worker-role", IAM_ROLE_NAME_MAX),
            assume_role_policy=assume_role_policy("lambda.amazonaws.com"),
            opts=child,
        )
        # Created before the function so Lambda does not create an unmanaged one.
        logs = aws.cloudwatch.LogGroup(
            f"{name}-worker-logs",
            name=f"/aws/lambda/{args.function_name}",
            retention_in_days=30,
            opts=child,
        )
        # Only this queue and this log group, rather than the managed policy's any queue.
        permissions = aws.iam.RolePolicy(
            f"{name}-worker-access",
            role=role.id,
            policy=pulumi.Output.all(queue.arn, logs.arn).apply(
                lambda arns: _worker_policy(arns[0], arns[1])
            ),
            opts=child,
        )
        function = aws.lambda_.Function(
            f"{name}-worker",
            name=args.function_name,
            role=role.arn,
            runtime="python3.12",
            handler="index.handler",
            memory_size=args.memory_mb,
            timeout=LAMBDA_TIMEOUT_SECONDS,
            code=pulumi.AssetArchive({"index.py": pulumi.StringAsset(WORKER_HANDLER)}),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[logs, permissions]),
        )
        aws.lambda_.EventSourceMapping(
            f"{name}-worker-feed",
            event_source_arn=queue.arn,
            function_name=function.arn,
            batch_size=args.batch_size,
            maximum_batching_window_in_seconds=window,
            # Lambda checks the role can read the queue when the mapping is created.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[permissions]),
        )
        aws.cloudwatch.MetricAlarm(
            f"{name}-dlq-depth",
            namespace="AWS/SQS",
            metric_name="ApproximateNumberOfMessagesVisible",
            dimensions={"QueueName": dead_letters.name},
            statistic="Maximum",
            period=300,
            evaluation_periods=1,
            comparison_operator="GreaterThanThreshold",
            threshold=0,
            alarm_actions=[args.alarm_topic_arn],
            opts=child,
        )

        self.queue_url = queue.url
        self.function_name = function.name
        self.register_outputs({"queue_url": self.queue_url, "function_name": self.function_name})


def _worker_policy(queue_arn: str, log_group_arn: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": [
                        "sqs:ReceiveMessage",
                        "sqs:DeleteMessage",
                        "sqs:GetQueueAttributes",
                        "sqs:ChangeMessageVisibility",
                    ],
                    "Resource": queue_arn,
                },
                {
                    "Effect": "Allow",
                    "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                    "Resource": f"{log_group_arn}:*",
                },
            ],
        }
    )
