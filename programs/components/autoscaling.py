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

from programs.components.web import ROOT_DEVICE_NAME, WEB_ONLY_USER_DATA, image_parameter

# The step policies act on clear excursions around the target-tracking set point.
STEP_MARGIN_PERCENT = 20
# EC2 basic monitoring reports CPU every 5 minutes; a shorter period sees no data.
BASIC_MONITORING_PERIOD_SECONDS = 300
STEP_ALARM_EVALUATION_PERIODS = 2
WEEKDAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


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
    # Tags every instance the group launches carries (the provider's default tags do not
    # reach instances started by Auto Scaling).
    instance_tags: dict[str, str] | None = None


class AutoScaling(pulumi.ComponentResource):
    group_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: AutoScalingArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("stepladder:autoscaling:AutoScaling", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        template = aws.ec2.LaunchTemplate(
            f"{name}-template",
            # EC2 resolves the parameter at each launch: a new AMI needs no new template version.
            image_id=f"resolve:ssm:{image_parameter(args.instance_type)}",
            instance_type=args.instance_type,
            vpc_security_group_ids=[args.security_group_id],
            iam_instance_profile={"name": args.instance_profile_name}
            if args.instance_profile_name
            else None,
            user_data=base64.b64encode(WEB_ONLY_USER_DATA.encode()).decode(),
            update_default_version=True,
            metadata_options={"http_tokens": "required"},
            block_device_mappings=[
                {
                    "device_name": ROOT_DEVICE_NAME,
                    "ebs": {"encrypted": "true", "volume_type": "gp3"},
                }
            ],
            tag_specifications=[
                {"resource_type": kind, "tags": {"Name": name, **(args.instance_tags or {})}}
                for kind in ("instance", "volume")
            ],
            opts=child,
        )
        # With business hours the scheduled actions own the minimum; a deploy must not undo
        # tonight's scale-down. The desired capacity always belongs to the scaling policies.
        owned_by_aws = ["desiredCapacity"]
        if args.business_hours is not None:
            owned_by_aws.append("minSize")
        group = aws.autoscaling.Group(
            f"{name}-asg",
            vpc_zone_identifiers=args.subnet_ids,
            min_size=args.min_size,
            max_size=args.max_size,
            desired_capacity=args.min_size,
            target_group_arns=[args.target_group_arn],
            health_check_type="ELB",
            health_check_grace_period=120,
            # A version number (not `$Latest`), so a new version starts the instance refresh.
            launch_template={"id": template.id, "version": template.latest_version.apply(str)},
            instance_refresh={"strategy": "Rolling", "preferences": {"min_healthy_percentage": 50}},
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=owned_by_aws),
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
                period=BASIC_MONITORING_PERIOD_SECONDS,
                evaluation_periods=STEP_ALARM_EVALUATION_PERIODS,
                comparison_operator=operator,
                threshold=threshold,
                alarm_actions=[policy.arn],
                alarm_description=f"CPU {operator} {threshold}% for 10 minutes: {alarm_name}",
                opts=child,
            )

        if args.business_hours is not None:
            hours = args.business_hours
            # Ending at 24 means midnight after the last business day, not before the first.
            end_hour, end_days = hours.end_hour, hours.days
            if end_hour == 24:
                end_hour, end_days = 0, _next_days(hours.days)
            for action, hour, days, min_size in (
                ("business-hours-start", hours.start_hour, hours.days, args.min_size),
                ("business-hours-end", end_hour, end_days, hours.off_hours_min),
            ):
                aws.autoscaling.Schedule(
                    f"{name}-{action}",
                    scheduled_action_name=f"{name}-{action}",
                    autoscaling_group_name=group.name,
                    recurrence=f"0 {hour} * * {days}",
                    time_zone=hours.timezone,
                    min_size=min_size,
                    max_size=args.max_size,
                    # -1 leaves the desired capacity to the policies.
                    desired_capacity=-1,
                    opts=child,
                )

        self.group_name = group.name
        self.register_outputs({"group_name": self.group_name})


def _next_days(days: str) -> str:
    """The cron day-of-week field one day later: MON-FRI becomes TUE,WED,THU,FRI,SAT."""
    if days == "*":
        return days
    chosen: set[int] = set()
    for part in days.split(","):
        first, _, last = part.partition("-")
        start, end = _day_number(first), _day_number(last or first)
        chosen.update(day % 7 for day in range(start, end + 1 if end >= start else end + 8))
    return ",".join(WEEKDAYS[day] for day in sorted((day + 1) % 7 for day in chosen))


def _day_number(day: str) -> int:
    return int(day) if day.isdigit() else WEEKDAYS.index(day)
