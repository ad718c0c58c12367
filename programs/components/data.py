"""The data tier: one Aurora cluster from tier 1 on; a standby and readers are instances in it.

The cluster keeps its logical name and replacement-forcing inputs at every tier, so no step of
the ladder can replace it (TIERS.md, data safety).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from programs.components.master_password import (
    MASTER_USERNAME,
    PasswordRotation,
    PasswordRotationArgs,
    owned_master_password,
    store_master_password,
)
from programs.components.replicas import ReplicaSettling, ReplicaSettlingArgs
from programs.naming import (
    CLUSTER_SNAPSHOT_IDENTIFIER_MAX,
    RDS_IDENTIFIER_MAX,
    exact_name,
    fitted_name,
)

ENGINE_PORTS = {"aurora-mysql": 3306, "aurora-postgresql": 5432}


@dataclass(frozen=True)
class AuroraDatabaseArgs:
    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    # The cluster's region (where AWS's rotation function runs for an owned password).
    region: str
    client_security_group_id: pulumi.Input[str]
    availability_zones: tuple[str, ...]
    engine: str
    instance_class: str
    protected: bool
    # Names this cluster's final snapshot together with the cluster's own name.
    snapshot_stamp: str
    standby: bool = False
    reader_count: int = 0
    # Replica auto scaling (tier 3): Application Auto Scaling adds readers up to reader_max.
    replica_autoscaling: bool = False
    reader_max: int = 0
    # The step below it (tier 2) keeps the scaling target, capped at the replicas Pulumi
    # manages: AWS then removes the readers it added, which removing the target would leave
    # running (and which would keep the cluster from being deleted).
    drain_autoscaled_replicas: bool = False
    # The step below the standby's tier (tier 1): the writer takes the writer role back first.
    fail_over_to_writer: bool = False
    reader_target_cpu: int = 50
    # AWS refuses a managed master password in an Aurora Global Database (tier 7): a
    # multi-region definition keeps its password in a secret of its own instead, rotated by
    # AWS's function (master_password.py) and replicated to this region when set.
    owned_master_password: bool = False
    master_secret_replica_region: str | None = None


class AuroraDatabase(pulumi.ComponentResource):
    cluster_arn: pulumi.Output[str]
    cluster_identifier: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    master_secret_arn: pulumi.Output[str]
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

        password: dict[str, Any] = {"manage_master_user_password": True}
        owned = None
        if args.owned_master_password:
            owned = owned_master_password(name, stateful, args.master_secret_replica_region)
            password = owned.cluster_arguments
        cluster = aws.rds.Cluster(
            f"{name}-cluster",
            cluster_identifier=fitted_name(f"{name}-cluster", RDS_IDENTIFIER_MAX),
            engine=args.engine,
            master_username=MASTER_USERNAME,
            **password,
            db_subnet_group_name=subnet_group.name,
            vpc_security_group_ids=[security_group.id],
            storage_encrypted=True,
            backup_retention_period=7,
            copy_tags_to_snapshot=True,
            deletion_protection=args.protected,
            skip_final_snapshot=False,
            final_snapshot_identifier=final_snapshot_identifier(name, args.snapshot_stamp),
            opts=pulumi.ResourceOptions.merge(
                stateful,
                # The snapshot name is fixed at creation; membership of an Aurora Global
                # Database (tier 7) is set by the global cluster, not here.
                pulumi.ResourceOptions(
                    ignore_changes=["finalSnapshotIdentifier", "globalClusterIdentifier"]
                ),
            ),
        )

        if owned is not None:
            stored = store_master_password(name, owned, cluster, args.engine, port, stateful)
            PasswordRotation(
                f"{name}-rotation",
                PasswordRotationArgs(
                    secret_id=owned.secret.id,
                    secret_value=stored,
                    engine=args.engine,
                    region=args.region,
                    vpc_id=args.vpc_id,
                    subnet_ids=args.subnet_ids,
                    database_security_group_id=security_group.id,
                    port=port,
                ),
                opts=child,
            )

        roles = [("writer", 0)]
        if args.standby:
            roles.append(("standby", 1))
        roles.extend((f"reader-{index}", 2 + index) for index in range(args.reader_count))
        instances = {}
        for role, zone_index in roles:
            # The ignore: `engine` is a plain str, not the provider's enum.
            instances[role] = aws.rds.ClusterInstance(  # type: ignore[call-overload]
                f"{name}-{role}",
                identifier=fitted_name(f"{name}-{role}", RDS_IDENTIFIER_MAX),
                cluster_identifier=cluster.id,
                engine=args.engine,
                instance_class=args.instance_class,
                availability_zone=args.availability_zones[
                    zone_index % len(args.availability_zones)
                ],
                # A class change is the user's request now, not at the next maintenance window.
                apply_immediately=True,
                # The standby is the first failover target; readers come after it.
                promotion_tier=0 if role in ("writer", "standby") else 2,
                opts=child,
            )

        # ReadReplicaCount counts every replica in the cluster, the standby and fixed readers too.
        managed_replicas = len(roles) - 1
        readers = None
        if args.replica_autoscaling or args.drain_autoscaled_replicas:
            readers = aws.appautoscaling.Target(
                f"{name}-readers",
                service_namespace="rds",
                scalable_dimension="rds:cluster:ReadReplicaCount",
                resource_id=pulumi.Output.concat("cluster:", cluster.id),
                min_capacity=managed_replicas,
                max_capacity=managed_replicas
                + (max(args.reader_max - args.reader_count, 0) if args.replica_autoscaling else 0),
                opts=child,
            )
        if args.replica_autoscaling and readers is not None:
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

        if args.drain_autoscaled_replicas or args.fail_over_to_writer:
            ReplicaSettling(
                f"{name}-settle",
                ReplicaSettlingArgs(
                    cluster_identifier=cluster.id,
                    cluster_arn=cluster.arn,
                    # An instance's id is its identifier.
                    writer_identifier=instances["writer"].id if args.fail_over_to_writer else None,
                    after=(readers,) if readers is not None else (),
                ),
                opts=child,
            )

        self.cluster_arn = cluster.arn
        self.cluster_identifier = cluster.id
        self.endpoint = cluster.endpoint
        self.master_secret_arn = (
            owned.secret.arn
            if owned is not None
            else cluster.master_user_secrets.apply(
                lambda secrets: (secrets[0].secret_arn or "") if secrets else ""
            )
        )
        self.reader_endpoint = cluster.reader_endpoint
        self.register_outputs(
            {
                "cluster_arn": self.cluster_arn,
                "endpoint": self.endpoint,
                "reader_endpoint": self.reader_endpoint,
            }
        )


def final_snapshot_identifier(cluster_name: str, stamp: str) -> str:
    """Unique per cluster (its own name) and per creation (the stamp of the operation that
    created it, kept by `ignore_changes`), so no two deletions ever ask for the same snapshot."""
    return exact_name(f"{cluster_name}-final-{stamp}", CLUSTER_SNAPSHOT_IDENTIFIER_MAX)
