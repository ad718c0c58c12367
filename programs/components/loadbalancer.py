"""The Application Load Balancer in front of the web tier (tier 2 and up).

From tier 3 it serves CloudFront only (`programs/components/origin.py`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from programs.components.origin import ORIGIN_HEADER, cloudfront_prefix_list_id, origin_secret
from programs.naming import LOAD_BALANCER_NAME_MAX, fitted_name

# TLS 1.3 and 1.2 only (AWS's recommended policy for HTTPS listeners).
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"


@dataclass(frozen=True)
class LoadBalancerArgs:
    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    # With a certificate the listener serves HTTPS and port 80 redirects to it.
    certificate_arn: pulumi.Input[str] | None = None
    # A protected environment's balancer refuses deletion until protection is lifted.
    protected: bool = False
    # Tier 3 and up: only CloudFront, with the origin secret header, gets through.
    cloudfront_only: bool = False


class LoadBalancer(pulumi.ComponentResource):
    arn: pulumi.Output[str]
    arn_suffix: pulumi.Output[str]
    dns_name: pulumi.Output[str]
    zone_id: pulumi.Output[str]
    target_group_arn_suffix: pulumi.Output[str]
    target_group_arn: pulumi.Output[str]
    security_group_id: pulumi.Output[str]
    origin_secret: pulumi.Output[str] | None

    def __init__(
        self, name: str, args: LoadBalancerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("stepladder:loadbalancer:LoadBalancer", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        security_group = aws.ec2.SecurityGroup(
            f"{name}-sg", vpc_id=args.vpc_id, description="Load balancer", opts=child
        )
        serving_port = 443 if args.certificate_arn is not None else 80
        if args.cloudfront_only:
            # One port only: AWS counts the prefix list as its 55 entries against the group's
            # 60 rules.
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-in-cloudfront",
                security_group_id=security_group.id,
                ip_protocol="tcp",
                from_port=serving_port,
                to_port=serving_port,
                prefix_list_id=cloudfront_prefix_list_id(self),
                opts=child,
            )
        else:
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
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-egress",
            security_group_id=security_group.id,
            ip_protocol="-1",
            cidr_ipv4="0.0.0.0/0",
            opts=child,
        )

        balancer = aws.lb.LoadBalancer(
            f"{name}-alb",
            name=fitted_name(f"{name}-alb", LOAD_BALANCER_NAME_MAX),
            load_balancer_type="application",
            subnets=args.subnet_ids,
            security_groups=[security_group.id],
            # Malformed headers are dropped at the edge rather than passed to the web servers.
            drop_invalid_header_fields=True,
            enable_deletion_protection=args.protected,
            opts=child,
        )
        target_group = aws.lb.TargetGroup(
            f"{name}-targets",
            name=fitted_name(f"{name}-targets", LOAD_BALANCER_NAME_MAX),
            vpc_id=args.vpc_id,
            port=80,
            protocol="HTTP",
            target_type="instance",
            health_check={"path": "/", "matcher": "200-399"},
            opts=child,
        )
        forward = [
            aws.lb.ListenerDefaultActionArgs(type="forward", target_group_arn=target_group.arn)
        ]
        secret = origin_secret(name, self) if args.cloudfront_only else None
        served = forward
        if secret is not None:
            served = [
                aws.lb.ListenerDefaultActionArgs(
                    type="fixed-response",
                    fixed_response=aws.lb.ListenerDefaultActionFixedResponseArgs(
                        content_type="text/plain", status_code="403"
                    ),
                )
            ]
        if args.certificate_arn is not None:
            serving = aws.lb.Listener(
                f"{name}-https",
                load_balancer_arn=balancer.arn,
                port=443,
                protocol="HTTPS",
                certificate_arn=args.certificate_arn,
                ssl_policy=TLS_POLICY,
                default_actions=served,
                opts=child,
            )
            redirect = aws.lb.ListenerDefaultActionRedirectArgs(
                port="443", protocol="HTTPS", status_code="HTTP_301"
            )
            aws.lb.Listener(
                f"{name}-http",
                load_balancer_arn=balancer.arn,
                port=80,
                protocol="HTTP",
                default_actions=[
                    aws.lb.ListenerDefaultActionArgs(type="redirect", redirect=redirect)
                ],
                opts=child,
            )
        else:
            serving = aws.lb.Listener(
                f"{name}-http",
                load_balancer_arn=balancer.arn,
                port=80,
                protocol="HTTP",
                default_actions=served,
                opts=child,
            )
        if secret is not None:
            aws.lb.ListenerRule(
                f"{name}-from-cloudfront",
                listener_arn=serving.arn,
                priority=1,
                conditions=[
                    {"http_header": {"http_header_name": ORIGIN_HEADER, "values": [secret]}}
                ],
                actions=[
                    aws.lb.ListenerRuleActionArgs(type="forward", target_group_arn=target_group.arn)
                ],
                opts=child,
            )

        self.arn = balancer.arn
        self.arn_suffix = balancer.arn_suffix
        self.dns_name = balancer.dns_name
        self.zone_id = balancer.zone_id
        self.target_group_arn_suffix = target_group.arn_suffix
        self.target_group_arn = target_group.arn
        self.security_group_id = security_group.id
        self.origin_secret = secret
        self.register_outputs(
            {
                "arn": self.arn,
                "dns_name": self.dns_name,
                "target_group_arn": self.target_group_arn,
                "security_group_id": self.security_group_id,
            }
        )
