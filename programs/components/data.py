"""The data tier: one Aurora cluster from tier 1 on; a standby and readers are instances in it.

The cluster keeps its logical name and replacement-forcing inputs at every tier, so no step of
the ladder can replace it (TIERS.md, data safety).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

ENGINE_PORTS = {"aurora-mysql": 3306, "aurora-postgresql": 5432}


@dataclass(frozen=True)
class AuroraDatabaseArgs:
    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    client_security_group_id: pulumi.Input[str]
    availability_zones: tuple[str, ...]
    engine: str
    instance_class: str
    protected: bool
    final_snapshot_identifier: str
    standby: bool = False
    reader_count: int = 0
    # Replica auto scaling (tier 3): Application Auto Scaling adds readers up to reader_max.
    replica_autoscaling: bool = False
    reader_max: int = 0
    reader_target_cpu: int = 50


class AuroraDatabase(pulumi.ComponentResource):
    cluster_arn: pulumi.Output[str]
    cluster_identifier: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    reader_endpoint: pulumi.Output[str]

    def __init__(
        self, name: str, args: AuroraDatabaseArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("stepladder:data:AuroraDatabase", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # `protect` refuses any deletion of the data-holding resources until it is lifted.
        stateful = pulumi.ResourceOptions(parent=self, protect=args.protected)
        port = ENGINE_PORTS[args.engine]

        security_group = aws.ec2.SecurityGroup(
            f"{name}-sg", vpc_id=args.vpc_id, description="Aurora", opts=child
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-in-from-web",
            security_group_id=security_group.id,
            ip_protocol="tcp",
            from_port=port,
            to_port=port,
            referenced_security_group_id=args.client_security_group_id,
            opts=child,
        )
        subnet_group = aws.rds.SubnetGroup(
            f"{name}-subnets", subnet_ids=args.subnet_ids, opts=child
        )

        cluster = aws.rds.Cluster(
            f"{name}-cluster",
            engine=args.engine,
            master_username="stepladder",
            # AWS keeps the password in Secrets Manager; it never passes through Stepladder.
            manage_master_user_password=True,
            db_subnet_group_name=subnet_group.name,
            vpc_security_group_ids=[security_group.id],
            storage_encrypted=True,
            backup_retention_period=7,
            copy_tags_to_snapshot=True,
            deletion_protection=args.protected,
            skip_final_snapshot=False,
            final_snapshot_identifier=args.final_snapshot_identifier,
            opts=pulumi.ResourceOptions.merge(
                stateful,
                # The snapshot name is fixed at creation; membership of an Aurora Global
                # Database (tier 7) is set by the global cluster, not here.
                pulumi.ResourceOptions(
                    ignore_changes=["finalSnapshotIdentifier", "globalClusterIdentifier"]
                ),
            ),
        )

        roles = [("writer", 0)]
        if args.standby:
            roles.append(("standby", 1))
        roles.extend((f"reader-{index}", 2 + index) for index in range(args.reader_count))
        for role, zone_index in roles:
            aws.rds.ClusterInstance(  # type: ignore[call-overload] # engine is a plain str
                f"{name}-{role}",
                cluster_identifier=cluster.id,
                engine=args.engine,
                instance_class=args.instance_class,
                availability_zone=args.availability_zones[
                    zone_index % len(args.availability_zones)
                ],
                # The standby is the first failover target; readers come after it.
                promotion_tier=0 if role in ("writer", "standby") else 2,
                opts=child,
            )

        if args.replica_autoscaling:
            readers = aws.appautoscaling.Target(
                f"{name}-readers",
                service_namespace="rds",
                scalable_dimension="rds:cluster:ReadReplicaCount",
                resource_id=pulumi.Output.concat("cluster:", cluster.id),
                min_capacity=args.reader_count,
                max_capacity=args.reader_max,
                opts=child,
            )
            aws.appautoscaling.Policy(
                f"{name}-readers-cpu",
                policy_type="TargetTrackingScaling",
                service_namespace=readers.service_namespace,
                scalable_dimension=readers.scalable_dimension,
                resource_id=readers.resource_id,
                target_tracking_scaling_policy_configuration={
                    "predefined_metric_specification": {
                        "predefined_metric_type": "RDSReaderAverageCPUUtilization"
                    },
                    "target_value": args.reader_target_cpu,
                    "scale_in_cooldown": 300,
                    "scale_out_cooldown": 120,
                },
                opts=child,
            )

        self.cluster_arn = cluster.arn
        self.cluster_identifier = cluster.id
        self.endpoint = cluster.endpoint
        self.reader_endpoint = cluster.reader_endpoint
        self.register_outputs(
            {
                "cluster_arn": self.cluster_arn,
                "endpoint": self.endpoint,
                "reader_endpoint": self.reader_endpoint,
            }
        )
