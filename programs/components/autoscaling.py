"""Auto Scaling (tier 5): a launch template and an Auto Scaling Group behind the target group,
scaled by a target-tracking policy plus explicit step policies out and in, and optionally by
business-hours scheduled actions.

The group's desired capacity belongs to AWS once it exists: the program sets it at creation
and then ignores it, so a redeploy never undoes what the scaling policies chose.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from programs.components.web import WEB_ONLY_USER_DATA, web_image_id

# The step policies act on clear excursions around the target-tracking set point.
STEP_MARGIN_PERCENT = 20


@dataclass(frozen=True)
class BusinessHours:
    start_hour: int
    end_hour: int
    days: str
    timezone: str
    off_hours_min: int


@dataclass(frozen=True)
class AutoScalingArgs:
    subnet_ids: Sequence[pulumi.Input[str]]
    security_group_id: pulumi.Input[str]
    target_group_arn: pulumi.Input[str]
    instance_type: str
    instance_profile_name: pulumi.Input[str] | None
    min_size: int
    max_size: int
    target_cpu: int
    business_hours: BusinessHours | None = None


class AutoScaling(pulumi.ComponentResource):
    group_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: AutoScalingArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("stepladder:autoscaling:AutoScaling", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        template = aws.ec2.LaunchTemplate(
            f"{name}-template",
            image_id=web_image_id(self),
            instance_type=args.instance_type,
            vpc_security_group_ids=[args.security_group_id],
            iam_instance_profile={"name": args.instance_profile_name}
            if args.instance_profile_name
            else None,
            user_data=base64.b64encode(WEB_ONLY_USER_DATA.encode()).decode(),
            update_default_version=True,
            metadata_options={"http_tokens": "required"},
            opts=child,
        )
        group = aws.autoscaling.Group(
            f"{name}-asg",
            vpc_zone_identifiers=args.subnet_ids,
            min_size=args.min_size,
            max_size=args.max_size,
            desired_capacity=args.min_size,
            target_group_arns=[args.target_group_arn],
            health_check_type="ELB",
            health_check_grace_period=120,
            launch_template={"id": template.id, "version": "$Latest"},
            instance_refresh={"strategy": "Rolling", "preferences": {"min_healthy_percentage": 50}},
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["desiredCapacity"]),
        )

        aws.autoscaling.Policy(
            f"{name}-cpu-target",
            autoscaling_group_name=group.name,
            policy_type="TargetTrackingScaling",
            target_tracking_configuration={
                "predefined_metric_specification": {
                    "predefined_metric_type": "ASGAverageCPUUtilization"
                },
                "target_value": args.target_cpu,
            },
            opts=child,
        )
        scale_out = aws.autoscaling.Policy(
            f"{name}-scale-out",
            autoscaling_group_name=group.name,
            policy_type="StepScaling",
            adjustment_type="ChangeInCapacity",
            metric_aggregation_type="Average",
            step_adjustments=[
                {"metric_interval_lower_bound": "0", "scaling_adjustment": 2},
            ],
            opts=child,
        )
        scale_in = aws.autoscaling.Policy(
            f"{name}-scale-in",
            autoscaling_group_name=group.name,
            policy_type="StepScaling",
            adjustment_type="ChangeInCapacity",
            metric_aggregation_type="Average",
            step_adjustments=[
                {"metric_interval_upper_bound": "0", "scaling_adjustment": -1},
            ],
            opts=child,
        )
        high = min(args.target_cpu + STEP_MARGIN_PERCENT, 95)
        low = max(args.target_cpu - STEP_MARGIN_PERCENT, 5)
        for alarm_name, operator, threshold, policy in (
            ("scale-out", "GreaterThanOrEqualToThreshold", high, scale_out),
            ("scale-in", "LessThanOrEqualToThreshold", low, scale_in),
        ):
            aws.cloudwatch.MetricAlarm(
                f"{name}-{alarm_name}-alarm",
                namespace="AWS/EC2",
                metric_name="CPUUtilization",
                dimensions={"AutoScalingGroupName": group.name},
                statistic="Average",
                period=60,
                evaluation_periods=3,
                comparison_operator=operator,
                threshold=threshold,
                alarm_actions=[policy.arn],
                alarm_description=f"CPU {operator} {threshold}% for 3 minutes: {alarm_name}",
                opts=child,
            )

        if args.business_hours is not None:
            hours = args.business_hours
            for action, hour, min_size in (
                ("business-hours-start", hours.start_hour, args.min_size),
                ("business-hours-end", hours.end_hour % 24, hours.off_hours_min),
            ):
                aws.autoscaling.Schedule(
                    f"{name}-{action}",
                    scheduled_action_name=f"{name}-{action}",
                    autoscaling_group_name=group.name,
                    recurrence=f"0 {hour} * * {hours.days}",
                    time_zone=hours.timezone,
                    min_size=min_size,
                    max_size=args.max_size,
                    # -1 leaves the desired capacity to the policies.
                    desired_capacity=-1,
                    opts=child,
                )

        self.group_name = group.name
        self.register_outputs({"group_name": self.group_name})
