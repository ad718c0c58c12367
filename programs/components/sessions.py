"""A stateless web tier (tier 4): session state in DynamoDB, a Redis cache in ElastiCache,
and an instance role so the web servers can reach the table."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from programs.components.iam import assume_role_policy
from programs.naming import IAM_ROLE_NAME_MAX, REPLICATION_GROUP_ID_MAX, fitted_name

REDIS_PORT = 6379


@dataclass(frozen=True)
class SessionStoreArgs:
    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    web_security_group_id: pulumi.Input[str]
    cache_node_type: str
    cache_node_count: int
    protected: bool
    # Tier 7: the table is a global table with a replica here, so the secondary region's web
    # servers read and write sessions locally.
    replica_regions: tuple[str, ...] = ()


class SessionStore(pulumi.ComponentResource):
    table_name: pulumi.Output[str]
    instance_profile_name: pulumi.Output[str]
    cache_endpoint: pulumi.Output[str]

    def __init__(
        self, name: str, args: SessionStoreArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("stepladder:sessions:SessionStore", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        stateful = pulumi.ResourceOptions(parent=self, protect=args.protected)

        table = aws.dynamodb.Table(
            f"{name}-table",
            billing_mode="PAY_PER_REQUEST",
            hash_key="session_id",
            attributes=[{"name": "session_id", "type": "S"}],
            ttl={"attribute_name": "expires_at", "enabled": True},
            point_in_time_recovery={"enabled": True},
            deletion_protection_enabled=args.protected,
            # Replicas need the stream; on from the start, so adding a region changes only that.
            stream_enabled=True,
            stream_view_type="NEW_AND_OLD_IMAGES",
            replicas=[
                {"region_name": region, "point_in_time_recovery": True}
                for region in args.replica_regions
            ],
            opts=stateful,
        )

        role = aws.iam.Role(
            f"{name}-web-role",
            name=fitted_name(f"{name}-web-role", IAM_ROLE_NAME_MAX),
            assume_role_policy=assume_role_policy("ec2.amazonaws.com"),
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-web-table-access",
            role=role.id,
            # Any region's copy of the table: the secondary region's servers use its replica.
            policy=table.arn.apply(_any_region).apply(
                lambda arn: json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": [
                                    "dynamodb:GetItem",
                                    "dynamodb:PutItem",
                                    "dynamodb:UpdateItem",
                                    "dynamodb:DeleteItem",
                                ],
                                "Resource": arn,
                            }
                        ],
                    }
                )
            ),
            opts=child,
        )
        profile = aws.iam.InstanceProfile(f"{name}-web-profile", role=role.name, opts=child)

        cache_security_group = aws.ec2.SecurityGroup(
            f"{name}-cache-sg", vpc_id=args.vpc_id, description="Redis", opts=child
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-cache-in-from-web",
            security_group_id=cache_security_group.id,
            ip_protocol="tcp",
            from_port=REDIS_PORT,
            to_port=REDIS_PORT,
            referenced_security_group_id=args.web_security_group_id,
            opts=child,
        )
        subnet_group = aws.elasticache.SubnetGroup(
            f"{name}-cache-subnets", subnet_ids=args.subnet_ids, opts=child
        )
        cache = aws.elasticache.ReplicationGroup(
            f"{name}-cache",
            replication_group_id=fitted_name(f"{name}-cache", REPLICATION_GROUP_ID_MAX),
            description=f"{name} session cache",
            engine="redis",
            node_type=args.cache_node_type,
            num_cache_clusters=args.cache_node_count,
            port=REDIS_PORT,
            automatic_failover_enabled=True,
            multi_az_enabled=True,
            at_rest_encryption_enabled=True,
            transit_encryption_enabled=True,
            subnet_group_name=subnet_group.name,
            security_group_ids=[cache_security_group.id],
            opts=stateful,
        )

        self.table_name = table.name
        self.instance_profile_name = profile.name
        self.cache_endpoint = cache.primary_endpoint_address
        self.register_outputs(
            {
                "table_name": self.table_name,
                "instance_profile_name": self.instance_profile_name,
                "cache_endpoint": self.cache_endpoint,
            }
        )


def _any_region(arn: str) -> str:
    parts = arn.split(":")
    return ":".join([*parts[:3], "*", *parts[4:]]) if len(parts) > 4 else arn
