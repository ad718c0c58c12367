"""Federation and multi-region (tier 7).

Federation splits databases by function: each name in the definition gets its own Aurora
cluster (the data component again). Multi-region builds a secondary region from the same
components through that region's provider, joins the primary cluster to an Aurora Global
Database with a secondary cluster there, and routes users by latency when a hosted zone is set.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from programs.components.autoscaling import AutoScaling, AutoScalingArgs
from programs.components.data import ENGINE_PORTS, final_snapshot_identifier
from programs.components.loadbalancer import LoadBalancer, LoadBalancerArgs
from programs.components.network import Network, NetworkArgs
from programs.components.web import WebAccess, WebAccessArgs
from programs.naming import RDS_IDENTIFIER_MAX, fitted_name

WRITE_FORWARDING_ENGINE = "aurora-mysql"


@dataclass(frozen=True)
class SecondaryRegionArgs:
    availability_zones: tuple[str, ...]
    global_cluster_identifier: pulumi.Input[str]
    engine: str
    # A secondary cluster must run the global cluster's engine version.
    engine_version: pulumi.Input[str]
    instance_class: str
    web_instance_type: str
    web_min: int
    web_max: int
    target_cpu: int
    protected: bool
    snapshot_stamp: str
    instance_tags: dict[str, str]
    # IAM is global: the primary region's web profile (sessions table access) serves here too.
    instance_profile_name: pulumi.Input[str] | None = None
    # With a hosted zone: the region's own certificate for the domain (HTTPS listener).
    certificate_arn: pulumi.Input[str] | None = None


class SecondaryRegion(pulumi.ComponentResource):
    load_balancer_dns_name: pulumi.Output[str]
    load_balancer_zone_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: SecondaryRegionArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("stepladder:federation:SecondaryRegion", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        zone_count = len(args.availability_zones)

        network = Network(
            name,
            NetworkArgs(
                availability_zones=args.availability_zones,
                public_subnet_count=zone_count,
                private_subnet_count=zone_count,
            ),
            opts=child,
        )
        balancer = LoadBalancer(
            f"{name}-lb",
            LoadBalancerArgs(
                vpc_id=network.vpc_id,
                subnet_ids=network.public_subnet_ids,
                certificate_arn=args.certificate_arn,
            ),
            opts=child,
        )
        access = WebAccess(
            f"{name}-web",
            WebAccessArgs(
                vpc_id=network.vpc_id,
                load_balancer_security_group_id=balancer.security_group_id,
            ),
            opts=child,
        )
        AutoScaling(
            f"{name}-web",
            AutoScalingArgs(
                subnet_ids=network.public_subnet_ids,
                security_group_id=access.security_group_id,
                target_group_arn=balancer.target_group_arn,
                instance_type=args.web_instance_type,
                instance_profile_name=args.instance_profile_name,
                min_size=args.web_min,
                max_size=args.web_max,
                target_cpu=args.target_cpu,
                instance_tags=args.instance_tags,
            ),
            opts=child,
        )

        database_security_group = aws.ec2.SecurityGroup(
            f"{name}-aurora-sg", vpc_id=network.vpc_id, description="Aurora", opts=child
        )
        port = ENGINE_PORTS[args.engine]
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-aurora-in-from-web",
            security_group_id=database_security_group.id,
            ip_protocol="tcp",
            from_port=port,
            to_port=port,
            referenced_security_group_id=access.security_group_id,
            opts=child,
        )
        subnets = aws.rds.SubnetGroup(
            f"{name}-aurora-subnets", subnet_ids=network.private_subnet_ids, opts=child
        )
        # An encrypted secondary needs a key of its own region: AWS's default key for RDS there.
        region_key = aws.kms.get_alias_output(
            name="alias/aws/rds", opts=pulumi.InvokeOutputOptions(parent=self)
        )
        # A secondary cluster has no master user: it replicates the primary's.
        cluster = aws.rds.Cluster(
            f"{name}-aurora-cluster",
            cluster_identifier=fitted_name(f"{name}-aurora-cluster", RDS_IDENTIFIER_MAX),
            engine=args.engine,
            engine_version=args.engine_version,
            global_cluster_identifier=args.global_cluster_identifier,
            # Writes sent to the secondary reach the primary writer (Aurora MySQL); Aurora
            # PostgreSQL secondaries serve reads only.
            enable_global_write_forwarding=args.engine == WRITE_FORWARDING_ENGINE or None,
            kms_key_id=region_key.target_key_arn,
            db_subnet_group_name=subnets.name,
            vpc_security_group_ids=[database_security_group.id],
            storage_encrypted=True,
            deletion_protection=args.protected,
            skip_final_snapshot=False,
            final_snapshot_identifier=final_snapshot_identifier(
                f"{name}-aurora", args.snapshot_stamp
            ),
            opts=pulumi.ResourceOptions(
                parent=self,
                protect=args.protected,
                ignore_changes=["finalSnapshotIdentifier", "replicationSourceIdentifier"],
            ),
        )
        aws.rds.ClusterInstance(  # type: ignore[call-overload] # engine is a plain str
            f"{name}-aurora-reader",
            identifier=fitted_name(f"{name}-aurora-reader", RDS_IDENTIFIER_MAX),
            cluster_identifier=cluster.id,
            engine=args.engine,
            instance_class=args.instance_class,
            opts=child,
        )

        self.load_balancer_dns_name = balancer.dns_name
        self.load_balancer_zone_id = balancer.zone_id
        self.register_outputs({"load_balancer_dns_name": self.load_balancer_dns_name})


@dataclass(frozen=True)
class RegionalEndpoint:
    region: str
    dns_name: pulumi.Input[str]
    zone_id: pulumi.Input[str]
    # Route 53 cannot evaluate a CloudFront alias's health.
    evaluate_target_health: bool = True


def latency_records(
    name: str,
    hosted_zone_id: str,
    domain_name: str,
    endpoints: Sequence[RegionalEndpoint],
    opts: pulumi.ResourceOptions,
) -> None:
    """One latency-routed alias record per region, all answering for `domain_name`."""
    for endpoint in endpoints:
        aws.route53.Record(
            f"{name}-dns-{endpoint.region}",
            zone_id=hosted_zone_id,
            name=domain_name,
            type="A",
            set_identifier=endpoint.region,
            # The domain may already answer (a record made by hand, or by an earlier attempt).
            allow_overwrite=True,
            latency_routing_policies=[{"region": endpoint.region}],
            aliases=[
                {
                    "name": endpoint.dns_name,
                    "zone_id": endpoint.zone_id,
                    "evaluate_target_health": endpoint.evaluate_target_health,
                }
            ],
            opts=opts,
        )
