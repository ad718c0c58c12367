"""Monitoring (tier 5): a log group, a dashboard, and alarms that notify an SNS topic."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

LOG_RETENTION_DAYS = 30


@dataclass(frozen=True)
class MonitoringArgs:
    region: str
    load_balancer_arn_suffix: pulumi.Input[str]
    database_cluster_identifier: pulumi.Input[str]
    auto_scaling_group_name: pulumi.Input[str]


class Monitoring(pulumi.ComponentResource):
    topic_arn: pulumi.Output[str]
    log_group_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("stepladder:monitoring:Monitoring", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        # Encrypted with a key of our own: CloudWatch cannot publish to a topic under AWS's
        # managed SNS key, so the key policy lets CloudWatch use this one.
        account_id = aws.get_caller_identity_output(
            opts=pulumi.InvokeOutputOptions(parent=self)
        ).account_id
        key = aws.kms.Key(
            f"{name}-alarms-key",
            description=f"{name}: encrypts the alarm topic",
            enable_key_rotation=True,
            policy=account_id.apply(_alarm_key_policy),
            opts=child,
        )
        topic = aws.sns.Topic(f"{name}-alarms", kms_master_key_id=key.arn, opts=child)
        logs = aws.cloudwatch.LogGroup(
            f"{name}-logs", retention_in_days=LOG_RETENTION_DAYS, opts=child
        )

        alarms = (
            ("alb-5xx", "AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", "Sum", 10,
             {"LoadBalancer": args.load_balancer_arn_suffix}),
            ("alb-latency", "AWS/ApplicationELB", "TargetResponseTime", "Average", 1.0,
             {"LoadBalancer": args.load_balancer_arn_suffix}),
            ("aurora-cpu", "AWS/RDS", "CPUUtilization", "Average", 80,
             {"DBClusterIdentifier": args.database_cluster_identifier}),
            ("replica-lag", "AWS/RDS", "AuroraReplicaLag", "Maximum", 1000,
             {"DBClusterIdentifier": args.database_cluster_identifier}),
        )  # fmt: skip
        for alarm_name, namespace, metric, statistic, threshold, dimensions in alarms:
            aws.cloudwatch.MetricAlarm(
                f"{name}-{alarm_name}",
                namespace=namespace,
                metric_name=metric,
                dimensions=dimensions,
                statistic=statistic,
                period=60,
                evaluation_periods=5,
                comparison_operator="GreaterThanThreshold",
                threshold=threshold,
                treat_missing_data="notBreaching",
                alarm_actions=[topic.arn],
                ok_actions=[topic.arn],
                opts=child,
            )

        aws.cloudwatch.Dashboard(
            f"{name}-dashboard",
            dashboard_name=f"{name}-overview",
            dashboard_body=pulumi.Output.all(
                args.load_balancer_arn_suffix,
                args.database_cluster_identifier,
                args.auto_scaling_group_name,
            ).apply(lambda ids: _dashboard(args.region, ids[0], ids[1], ids[2])),
            opts=child,
        )

        self.topic_arn = topic.arn
        self.log_group_name = logs.name
        self.register_outputs({"topic_arn": self.topic_arn, "log_group_name": self.log_group_name})


def _alarm_key_policy(account_id: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AccountAdministersTheKey",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                },
                {
                    "Sid": "CloudWatchPublishesAlarms",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudwatch.amazonaws.com"},
                    "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                    "Resource": "*",
                },
            ],
        }
    )


def _dashboard(region: str, load_balancer: str, cluster: str, group: str) -> str:
    def widget(title: str, metrics: list[list[str]]) -> dict[str, Any]:
        return {
            "type": "metric",
            "width": 12,
            "height": 6,
            "properties": {"title": title, "region": region, "metrics": metrics, "period": 60},
        }

    elb, rds = "AWS/ApplicationELB", "AWS/RDS"
    return json.dumps(
        {
            "widgets": [
                widget("Requests", [[elb, "RequestCount", "LoadBalancer", load_balancer]]),
                widget("Latency", [[elb, "TargetResponseTime", "LoadBalancer", load_balancer]]),
                widget("Web CPU", [["AWS/EC2", "CPUUtilization", "AutoScalingGroupName", group]]),
                widget("Aurora CPU", [[rds, "CPUUtilization", "DBClusterIdentifier", cluster]]),
                widget("Replica lag", [[rds, "AuroraReplicaLag", "DBClusterIdentifier", cluster]]),
            ]
        }
    )
