"""The web tier's access rules, and its fixed instances (tiers 0 to 4).

From tier 5 the Auto Scaling Group (autoscaling.py) replaces the fixed instances; the security
group stays, so the rules that reference it (database, cache) never change with the step.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from programs.components.move_scripts import box_user_data

# The AMI is looked up from AWS's public parameter so every region gets its own image id;
# Graviton families (t4g, m7g, ...) boot only arm64 images.
AMI_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-{architecture}"
GRAVITON_FAMILY = re.compile(r"^[a-z]+[0-9]+g[a-z]*\.")

WEB_ONLY_USER_DATA = """#!/bin/bash
dnf install -y nginx
systemctl enable --now nginx
"""


def architecture(instance_type: str) -> str:
    return "arm64" if GRAVITON_FAMILY.match(instance_type) else "x86_64"


def image_parameter(instance_type: str) -> str:
    return AMI_PARAMETER.format(architecture=architecture(instance_type))


def web_image_id(parent: pulumi.Resource, instance_type: str) -> pulumi.Output[str]:
    return aws.ssm.get_parameter_output(
        name=image_parameter(instance_type), opts=pulumi.InvokeOutputOptions(parent=parent)
    ).value


@dataclass(frozen=True)
class WebAccessArgs:
    vpc_id: pulumi.Input[str]
    # When set, only the load balancer may reach the web tier.
    load_balancer_security_group_id: pulumi.Input[str] | None = None


class WebAccess(pulumi.ComponentResource):
    security_group_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: WebAccessArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("stepladder:web:WebAccess", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        security_group = aws.ec2.SecurityGroup(
            f"{name}-sg", vpc_id=args.vpc_id, description="Web servers", opts=child
        )
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-egress",
            security_group_id=security_group.id,
            ip_protocol="-1",
            cidr_ipv4="0.0.0.0/0",
            opts=child,
        )
        if args.load_balancer_security_group_id is None:
            for port in (80, 443):
                aws.vpc.SecurityGroupIngressRule(
                    f"{name}-in-{port}",
                    security_group_id=security_group.id,
                    ip_protocol="tcp",
                    from_port=port,
                    to_port=port,
                    cidr_ipv4="0.0.0.0/0",
                    opts=child,
                )
        else:
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-in-from-alb",
                security_group_id=security_group.id,
                ip_protocol="tcp",
                from_port=80,
                to_port=80,
                referenced_security_group_id=args.load_balancer_security_group_id,
                opts=child,
            )

        self.security_group_id = security_group.id
        self.register_outputs({"security_group_id": self.security_group_id})


# The single box keeps its database on this volume (tier 0).
ENCRYPTED_ROOT_VOLUME = aws.ec2.InstanceRootBlockDeviceArgs(encrypted=True, volume_type="gp3")
# Amazon Linux 2023's root device, as its AMIs map it.
ROOT_DEVICE_NAME = "/dev/xvda"


@dataclass(frozen=True)
class WebServersArgs:
    subnet_ids: Sequence[pulumi.Input[str]]
    security_group_id: pulumi.Input[str]
    instance_type: str
    instance_count: int
    # Tier 0: the box also runs the database server of this cluster engine (move_scripts.py).
    local_database_engine: str | None
    target_group_arn: pulumi.Input[str] | None = None
    elastic_ip: bool = False
    instance_profile_name: pulumi.Input[str] | None = None


class WebServers(pulumi.ComponentResource):
    instance_ids: list[pulumi.Output[str]]

    def __init__(
        self, name: str, args: WebServersArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("stepladder:web:WebServers", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        image = web_image_id(self, args.instance_type)
        user_data = (
            box_user_data(args.local_database_engine)
            if args.local_database_engine
            else WEB_ONLY_USER_DATA
        )

        self.instance_ids = []
        for index in range(args.instance_count):
            instance = aws.ec2.Instance(
                f"{name}-{index}",
                ami=image,
                instance_type=args.instance_type,
                subnet_id=args.subnet_ids[index % len(args.subnet_ids)],
                vpc_security_group_ids=[args.security_group_id],
                iam_instance_profile=args.instance_profile_name,
                user_data=user_data,
                root_block_device=ENCRYPTED_ROOT_VOLUME,
                tags={"Name": f"{name}-{index}"},
                # A newer AMI must not replace running servers on an unrelated change; nor may
                # encryption, which AWS sets only at launch (a box launched before keeps its
                # volume: re-encrypting means a snapshot copy and a new instance).
                opts=pulumi.ResourceOptions(
                    parent=self, ignore_changes=["ami", "rootBlockDevice.encrypted"]
                ),
            )
            self.instance_ids.append(instance.id)
            if args.target_group_arn is not None:
                aws.lb.TargetGroupAttachment(
                    f"{name}-{index}-target",
                    target_group_arn=args.target_group_arn,
                    target_id=instance.id,
                    port=80,
                    opts=child,
                )
            if args.elastic_ip:
                aws.ec2.Eip(f"{name}-{index}-eip", domain="vpc", instance=instance.id, opts=child)

        self.register_outputs({"instance_ids": self.instance_ids})
