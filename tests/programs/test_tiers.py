"""Each tier declares what TIERS.md says it adds, checked through `build(spec)` under mocks."""

from __future__ import annotations

import dataclasses

import pytest

from tests.programs.conftest import SPEC, declare, unsecret

INSTANCE = "aws:ec2/instance:Instance"
CLUSTER = "aws:rds/cluster:Cluster"
CLUSTER_INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
ASG_POLICY = "aws:autoscaling/policy:Policy"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


def test_tier_0_is_one_box_with_an_elastic_ip() -> None:
    declared = declare(SPEC.at_tier(0))
    counts = declared.counts()

    assert counts["aws:ec2/vpc:Vpc"] == 1
    assert counts["aws:ec2/subnet:Subnet"] == 1
    assert counts["aws:ec2/internetGateway:InternetGateway"] == 1
    assert counts[INSTANCE] == 1
    assert counts["aws:ec2/eip:Eip"] == 1
    assert counts[CLUSTER] == 0
    ports = sorted(
        r.inputs["fromPort"]
        for r in declared.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    )
    assert ports == [80, 443]
    assert "mariadb" in declared.inputs("acme-web-0")["userData"]


def test_tier_1_moves_the_database_to_aurora_with_an_aws_managed_password() -> None:
    declared = declare(dataclasses.replace(SPEC, tier=1, secondary_region=None))
    counts = declared.counts()

    assert counts["aws:ec2/subnet:Subnet"] == 3  # one public, two private
    assert counts["aws:rds/subnetGroup:SubnetGroup"] == 1
    assert counts[CLUSTER] == 1
    assert counts[CLUSTER_INSTANCE] == 1
    cluster = declared.one(CLUSTER).inputs
    assert cluster["engine"] == "aurora-mysql"
    assert cluster["manageMasterUserPassword"] is True
    assert "masterPassword" not in cluster
    assert cluster["skipFinalSnapshot"] is False
    assert cluster["finalSnapshotIdentifier"].startswith("acme-aurora-final-")
    assert "mariadb" not in declared.inputs("acme-web-0")["userData"]
    rule = declared.inputs("acme-aurora-in-from-web")
    assert rule["fromPort"] == 3306 and "referencedSecurityGroupId" in rule


def test_tier_2_balances_two_instances_and_adds_a_standby_in_another_zone() -> None:
    declared = declare(SPEC.at_tier(2))
    counts = declared.counts()

    assert counts["aws:lb/loadBalancer:LoadBalancer"] == 1
    assert counts["aws:lb/targetGroup:TargetGroup"] == 1
    assert counts["aws:lb/listener:Listener"] == 1
    assert counts[INSTANCE] == 2
    assert counts["aws:lb/targetGroupAttachment:TargetGroupAttachment"] == 2
    assert counts["aws:ec2/eip:Eip"] == 0
    writer = declared.inputs("acme-aurora-writer")
    standby = declared.inputs("acme-aurora-standby")
    assert writer["availabilityZone"] != standby["availabilityZone"]
    zones = {declared.inputs(f"acme-web-{i}")["subnetId"] for i in range(2)}
    assert len(zones) == 2


def test_tier_3_adds_readers_with_replica_auto_scaling_and_a_cdn() -> None:
    declared = declare(SPEC.at_tier(3))
    counts = declared.counts()

    assert counts[CLUSTER_INSTANCE] == 3  # writer, standby, one reader
    target = declared.one("aws:appautoscaling/target:Target").inputs
    assert target["scalableDimension"] == "rds:cluster:ReadReplicaCount"
    assert target["serviceNamespace"] == "rds"
    policy = declared.one("aws:appautoscaling/policy:Policy").inputs
    metric = policy["targetTrackingScalingPolicyConfiguration"]["predefinedMetricSpecification"]
    assert metric["predefinedMetricType"] == "RDSReaderAverageCPUUtilization"
    assert counts["aws:s3/bucket:Bucket"] == 1
    block = declared.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs
    assert all(
        block[key] for key in ("blockPublicAcls", "blockPublicPolicy", "restrictPublicBuckets")
    )
    versioning = declared.one("aws:s3/bucketVersioning:BucketVersioning").inputs
    assert versioning["versioningConfiguration"]["status"] == "Enabled"
    distribution = declared.one("aws:cloudfront/distribution:Distribution").inputs
    assert {origin["originId"] for origin in unsecret(distribution["origins"])} == {"static", "web"}
    assert counts["aws:cloudfront/originAccessControl:OriginAccessControl"] == 1


def test_tier_4_keeps_sessions_in_dynamodb_and_redis() -> None:
    declared = declare(SPEC.at_tier(4))

    table = declared.one("aws:dynamodb/table:Table").inputs
    assert table["billingMode"] == "PAY_PER_REQUEST"
    assert table["ttl"] == {"attributeName": "expires_at", "enabled": True}
    cache = declared.one("aws:elasticache/replicationGroup:ReplicationGroup").inputs
    assert cache["engine"] == "redis"
    assert cache["automaticFailoverEnabled"] and cache["multiAzEnabled"]
    assert cache["atRestEncryptionEnabled"] and cache["transitEncryptionEnabled"]
    assert declared.counts()["aws:iam/instanceProfile:InstanceProfile"] == 1
    assert all("iamInstanceProfile" in r.inputs for r in declared.of_type(INSTANCE))


def test_tier_5_replaces_fixed_instances_with_an_auto_scaling_group() -> None:
    declared = declare(SPEC.at_tier(5))
    counts = declared.counts()

    assert counts[INSTANCE] == 0
    group = declared.one("aws:autoscaling/group:Group")
    assert "desiredCapacity" in declared.options[group.urn]["ignore_changes"]
    assert counts["aws:ec2/launchTemplate:LaunchTemplate"] == 1
    policies = [r.inputs for r in declared.of_type(ASG_POLICY)]
    assert sorted(p["policyType"] for p in policies) == [
        "StepScaling",
        "StepScaling",
        "TargetTrackingScaling",
    ]
    steps = [
        p["stepAdjustments"][0]["scalingAdjustment"] for p in policies if "stepAdjustments" in p
    ]
    assert sorted(steps) == [-1, 2]  # one policy scales out, the other scales in
    scaling_alarms = [
        r.inputs
        for r in declared.of_type(ALARM)
        if r.name.endswith(("scale-out-alarm", "scale-in-alarm"))
    ]
    assert len(scaling_alarms) == 2
    assert counts["aws:cloudwatch/logGroup:LogGroup"] == 1
    assert counts["aws:cloudwatch/dashboard:Dashboard"] == 1
    assert counts["aws:sns/topic:Topic"] == 1
    monitored = {r.inputs["metricName"] for r in declared.of_type(ALARM)}
    assert {"HTTPCode_ELB_5XX_Count", "TargetResponseTime", "AuroraReplicaLag"} <= monitored


def test_tier_6_adds_a_queue_with_dead_letters_and_a_lambda_worker() -> None:
    declared = declare(SPEC.at_tier(6))
    counts = declared.counts()

    assert counts["aws:sqs/queue:Queue"] == 2
    assert "deadLetterTargetArn" in declared.inputs("acme-work-queue")["redrivePolicy"]
    assert counts["aws:lambda/function:Function"] == 1
    assert counts["aws:lambda/eventSourceMapping:EventSourceMapping"] == 1
    assert (
        declared.inputs("acme-work-dlq-depth")["metricName"] == "ApproximateNumberOfMessagesVisible"
    )


def test_tier_7_federates_and_adds_a_secondary_region() -> None:
    declared = declare(SPEC.at_tier(7))

    clusters = {r.name for r in declared.of_type(CLUSTER)}
    assert clusters == {
        "acme-aurora-cluster",
        "acme-users-cluster",
        "acme-orders-cluster",
        "acme-us-east-1-aurora-cluster",
    }
    assert declared.one("aws:rds/globalCluster:GlobalCluster").inputs["forceDestroy"] is True
    secondary = declared.inputs("acme-us-east-1-aurora-cluster")
    assert "globalClusterIdentifier" in secondary and "masterUsername" not in secondary
    regions = {r.inputs["region"] for r in declared.of_type("pulumi:providers:aws")}
    assert regions == {"eu-west-1", "us-east-1"}
    assert len(declared.of_type("aws:lb/loadBalancer:LoadBalancer")) == 2
    assert len(declared.of_type("aws:autoscaling/group:Group")) == 2
    records = [r for r in declared.of_type("aws:route53/record:Record") if "-dns-" in r.name]
    assert sorted(r.inputs["setIdentifier"] for r in records) == ["eu-west-1", "us-east-1"]


def test_tier_7_without_a_hosted_zone_has_no_dns_records() -> None:
    spec = dataclasses.replace(SPEC, hosted_zone_id=None, domain_name=None, tier=7)
    assert declare(spec).counts()["aws:route53/record:Record"] == 0


# What a step up removes, by design; everything else of the tier below stays.
REMOVED_GOING_UP = {
    # The ALB fronts the web tier; the step down from here fails over to tier 1's writer.
    2: {"acme-web-0-eip", "acme-web-in-80", "acme-web-in-443", "acme-aurora-settle-failover"},
    # CloudFront fronts the ALB; the cluster keeps its readers, so nothing settles them.
    3: {
        "acme-lb-in-80",
        "acme-lb-in-443",
        "acme-aurora-settle",
        "acme-aurora-settle-role",
        "acme-aurora-settle-access",
        "acme-aurora-settle-document",
        "acme-aurora-settle-drain",
    },
    # The session store's web role takes over from the box's role; the move is long done.
    4: {
        "acme-box",
        "acme-box-role",
        "acme-box-ssm",
        "acme-box-profile",
        "acme-database-move",
        "acme-database-move-secret-read",
        "acme-database-move-document",
        "acme-database-move-run",
    },
    5: {"acme-web", "acme-web-0", "acme-web-1", "acme-web-0-target", "acme-web-1-target"},
}


@pytest.mark.parametrize("tier", range(1, 8))
def test_every_tier_keeps_the_one_below_but_what_it_replaces(tier: int) -> None:
    below = {r.urn: r.name for r in declare(SPEC.at_tier(tier - 1)).resources}
    here = {r.urn for r in declare(SPEC.at_tier(tier)).resources}

    removed = {name for urn, name in below.items() if urn not in here}

    assert removed == REMOVED_GOING_UP.get(tier, set())
