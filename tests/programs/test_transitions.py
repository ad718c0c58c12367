"""Every step between adjacent tiers, up and down: what it creates and deletes, and that it
never replaces a stateful resource (TIERS.md, data safety)."""

from __future__ import annotations

import dataclasses
from collections import Counter

import pytest

from programs import EnvironmentSpec, is_stateful
from service.engines.diffing import diff_resources
from service.engines.model import ResourceChange
from tests.programs.conftest import SPEC, declare


def _step(spec: EnvironmentSpec, from_tier: int, to_tier: int) -> list[ResourceChange]:
    before = declare(spec.at_tier(from_tier))
    after = declare(spec.at_tier(to_tier))
    return diff_resources(before.resources, after.resources, after.options)


def _counts(changes: list[ResourceChange], op: str) -> Counter[str]:
    return Counter(
        c.type for c in changes if c.op == op and not c.type.startswith(("pulumi:", "stepladder:"))
    )


# Cloud resources each step up creates, by type; the step down deletes exactly these again.
CREATED_GOING_UP: dict[int, dict[str, int]] = {
    1: {"aws:ec2/subnet:Subnet": 2, "aws:ec2/securityGroup:SecurityGroup": 1 + 2,
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": 1 + 2,
        "aws:rds/subnetGroup:SubnetGroup": 1, "aws:rds/cluster:Cluster": 1,
        "aws:rds/clusterInstance:ClusterInstance": 1,
        # A multi-region definition keeps its own master password (see test_aws_rules), rotated
        # by AWS's function with its groups, rules and Secrets Manager endpoint
        # (test_master_password).
        "aws:secretsmanager/secret:Secret": 1, "aws:secretsmanager/secretVersion:SecretVersion": 1,
        "aws:secretsmanager/secretRotation:SecretRotation": 1,
        "aws:serverlessrepository/cloudFormationStack:CloudFormationStack": 1,
        "aws:ec2/vpcEndpoint:VpcEndpoint": 1,
        "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": 1,
        # The box's role for Systems Manager, and the move of its database (test_database_move).
        # ... and the automation that settles the cluster's replicas (test_replicas).
        "aws:iam/role:Role": 2, "aws:iam/rolePolicyAttachment:RolePolicyAttachment": 1,
        "aws:iam/instanceProfile:InstanceProfile": 1, "aws:iam/rolePolicy:RolePolicy": 2,
        "aws:ssm/document:Document": 2, "aws:ssm/association:Association": 2},
    2: {"aws:ec2/subnet:Subnet": 1, "aws:ec2/routeTableAssociation:RouteTableAssociation": 1,
        "aws:ec2/securityGroup:SecurityGroup": 1,
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": 3,
        "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": 1,
        "aws:lb/loadBalancer:LoadBalancer": 1, "aws:lb/targetGroup:TargetGroup": 1,
        "aws:lb/listener:Listener": 1, "aws:ec2/instance:Instance": 1,
        "aws:lb/targetGroupAttachment:TargetGroupAttachment": 2,
        "aws:rds/clusterInstance:ClusterInstance": 1,
        # Capped at the managed replicas: it drains AWS's readers when stepping down from 3,
        # and the step waits for them (the drain replaces tier 1's failover association).
        "aws:appautoscaling/target:Target": 1, "aws:ssm/association:Association": 1},
    3: {"aws:rds/clusterInstance:ClusterInstance": 1,
        "aws:appautoscaling/policy:Policy": 1, "aws:s3/bucket:Bucket": 1,
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": 1,
        "aws:s3/bucketVersioning:BucketVersioning": 1,
        "aws:cloudfront/originAccessControl:OriginAccessControl": 1,
        "aws:cloudfront/distribution:Distribution": 1, "aws:s3/bucketPolicy:BucketPolicy": 1,
        # Only CloudFront reaches the load balancer from here (test_origin).
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": 1,
        "aws:lb/listenerRule:ListenerRule": 1, "aws:secretsmanager/secret:Secret": 1,
        "aws:secretsmanager/secretVersion:SecretVersion": 1,
        # The domain goes through CloudFront, with a certificate of its own (test_origin).
        "aws:acm/certificate:Certificate": 1,
        "aws:acm/certificateValidation:CertificateValidation": 1,
        "aws:route53/record:Record": 2},
    4: {"aws:dynamodb/table:Table": 1, "aws:iam/role:Role": 1, "aws:iam/rolePolicy:RolePolicy": 1,
        "aws:iam/instanceProfile:InstanceProfile": 1, "aws:ec2/securityGroup:SecurityGroup": 1,
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": 1,
        "aws:elasticache/subnetGroup:SubnetGroup": 1,
        "aws:elasticache/replicationGroup:ReplicationGroup": 1},
    5: {"aws:ec2/launchTemplate:LaunchTemplate": 1, "aws:autoscaling/group:Group": 1,
        "aws:autoscaling/policy:Policy": 3, "aws:cloudwatch/metricAlarm:MetricAlarm": 6,
        "aws:sns/topic:Topic": 1, "aws:kms/key:Key": 1, "aws:cloudwatch/logGroup:LogGroup": 1,
        "aws:cloudwatch/dashboard:Dashboard": 1},
    6: {"aws:sqs/queue:Queue": 2, "aws:iam/role:Role": 1,
        "aws:iam/rolePolicy:RolePolicy": 1,
        "aws:cloudwatch/logGroup:LogGroup": 1, "aws:lambda/function:Function": 1,
        "aws:lambda/eventSourceMapping:EventSourceMapping": 1,
        "aws:cloudwatch/metricAlarm:MetricAlarm": 1},
}  # fmt: skip

# Cloud resources each step up deletes, by type (what the new tier replaces).
DELETED_GOING_UP: dict[int, dict[str, int]] = {
    2: {"aws:ec2/eip:Eip": 1, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": 2,
        "aws:ssm/association:Association": 1},
    3: {"aws:iam/role:Role": 1, "aws:iam/rolePolicy:RolePolicy": 1,
        "aws:ssm/document:Document": 1, "aws:ssm/association:Association": 1,
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": 2},
    4: {"aws:iam/role:Role": 1, "aws:iam/rolePolicyAttachment:RolePolicyAttachment": 1,
        "aws:iam/instanceProfile:InstanceProfile": 1, "aws:iam/rolePolicy:RolePolicy": 1,
        "aws:ssm/document:Document": 1, "aws:ssm/association:Association": 1},
    5: {"aws:ec2/instance:Instance": 2, "aws:lb/targetGroupAttachment:TargetGroupAttachment": 2},
}  # fmt: skip

# Stateful resources each step down deletes (confirmation required); other steps delete none.
DATA_DELETED_GOING_DOWN: dict[int, set[str]] = {
    1: {"acme-aurora-cluster"},
    3: {"acme-edge-static"},
    4: {"acme-sessions-table", "acme-sessions-cache"},
    6: {"acme-work-queue", "acme-work-dlq"},
    7: {
        "acme-users-cluster",
        "acme-orders-cluster",
        "acme-global",
        "acme-us-east-1-aurora-cluster",
    },
}


@pytest.mark.parametrize("tier", range(1, 7))
def test_step_up_creates_and_deletes_exactly_what_the_tier_adds(tier: int) -> None:
    changes = _step(SPEC, tier - 1, tier)

    assert _counts(changes, "create") == Counter(CREATED_GOING_UP[tier])
    assert _counts(changes, "delete") == Counter(DELETED_GOING_UP.get(tier, {}))
    assert _counts(changes, "replace") == Counter()


def test_step_up_to_7_builds_the_federation_and_the_secondary_region() -> None:
    created = _counts(_step(SPEC, 6, 7), "create")

    assert created["aws:rds/cluster:Cluster"] == 3  # users, orders, and the secondary cluster
    assert created["aws:rds/globalCluster:GlobalCluster"] == 1
    assert created["aws:lb/loadBalancer:LoadBalancer"] == 1
    assert created["aws:autoscaling/group:Group"] == 1
    assert created["aws:ec2/vpc:Vpc"] == 1
    assert created["aws:route53/record:Record"] == 1  # the secondary's latency record
    assert created["aws:acm/certificate:Certificate"] == 1  # the secondary's HTTPS
    assert _counts(_step(SPEC, 6, 7), "delete") == Counter()


@pytest.mark.parametrize("tier", range(1, 8))
def test_step_down_undoes_the_step_up(tier: int) -> None:
    up = _step(SPEC, tier - 1, tier)
    down = _step(SPEC, tier, tier - 1)

    assert _counts(down, "delete") == _counts(up, "create")
    assert _counts(down, "create") == _counts(up, "delete")


@pytest.mark.parametrize("tier", range(1, 8))
def test_step_down_deletes_stateful_data_only_where_the_ladder_says(tier: int) -> None:
    down = _step(SPEC, tier, tier - 1)

    deleted = {c.name for c in down if c.deletes_data}

    assert deleted == DATA_DELETED_GOING_DOWN.get(tier, set())


@pytest.mark.parametrize(
    "spec",
    [
        SPEC,
        dataclasses.replace(SPEC, protected=True, db_engine="aurora-postgresql"),
        dataclasses.replace(SPEC, availability_zone_count=3, reader_count=3, reader_max=6),
    ],
    ids=["defaults", "protected-postgres", "three-zones"],
)
@pytest.mark.parametrize("tier", range(1, 8))
def test_no_adjacent_step_replaces_a_stateful_resource(spec: EnvironmentSpec, tier: int) -> None:
    for from_tier, to_tier in ((tier - 1, tier), (tier, tier - 1)):
        replaced = [c for c in _step(spec, from_tier, to_tier) if c.op == "replace"]
        stateful = [c.name for c in replaced if is_stateful(c.type)]
        assert stateful == [], f"{from_tier}->{to_tier} replaces stateful {stateful}"
        # Stricter than the rule: no step of the ladder replaces anything at all.
        assert [c.name for c in replaced] == [], f"{from_tier}->{to_tier} replaces"
