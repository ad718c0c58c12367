"""AWS's rules in the simulated AWS: each one refuses what AWS refuses, and only that."""

from __future__ import annotations

from typing import Any

import pytest

from service.engines.simulated_aws import SIMULATED_AMIS, simulated_prefix_list_id
from service.engines.simulated_aws_rules import UNKNOWN, check_resource


class Cloud:
    """A simulated cloud that knows the given resources, by type."""

    def __init__(self, **known: list[dict[str, Any]]) -> None:
        self.known = {kind.replace("__", "/"): items for kind, items in known.items()}
        self.claims: dict[tuple[str, str], str] = {}

    def find(self, resource_type: str, key: str, value: Any) -> list[dict[str, Any]]:
        short = resource_type.split(":")[1]
        return [r for r in self.known.get(short, []) if r.get(key) == value]

    def claim(self, kind: str, value: str, owner: str) -> str | None:
        holder = self.claims.setdefault((kind, value), owner)
        return None if holder == owner else holder


def reasons(resource_type: str, inputs: dict[str, Any], name: str = "x", cloud: Any = None) -> str:
    failures = check_resource(resource_type, name, f"urn::{name}", inputs, cloud or Cloud())
    assert all(f.reason.startswith("[simulated AWS] ") for f in failures)
    return " | ".join(f.reason for f in failures)


@pytest.mark.parametrize(
    ("resource_type", "limit"),
    [
        ("aws:lb/loadBalancer:LoadBalancer", 32),
        ("aws:lb/targetGroup:TargetGroup", 32),
        ("aws:elasticache/replicationGroup:ReplicationGroup", 40),
        ("aws:iam/role:Role", 64),
        ("aws:rds/cluster:Cluster", 63),
    ],
)
def test_generated_names_must_fit_aws_limits_after_pulumi_s_suffix(
    resource_type: str, limit: int
) -> None:
    longest = "n" * (limit - 8)  # a dash and seven random characters follow

    assert reasons(resource_type, {}, name=longest) == ""
    assert f"longer than maximum length {limit}" in reasons(resource_type, {}, name=longest + "n")


def test_rds_identifiers_have_no_double_hyphen() -> None:
    assert "two consecutive hyphens" in reasons(
        "aws:rds/clusterInstance:ClusterInstance", {"identifier": "shop--writer"}
    )
    assert reasons("aws:rds/clusterInstance:ClusterInstance", {"identifier": "shop-writer"}) == ""


def test_a_secondary_cluster_of_a_global_database() -> None:
    cloud = Cloud(rds__globalCluster=[{"globalClusterIdentifier": "g", "engineVersion": "8.0.1"}])
    cluster = "aws:rds/cluster:Cluster"

    refused = reasons(cluster, {"globalClusterIdentifier": "g", "manageMasterUserPassword": True},
                      cloud=cloud)  # fmt: skip
    assert "managed master user passwords are not supported" in refused
    assert "must name the engine version of its global database (8.0.1)" in refused
    assert "does not match" in reasons(
        cluster, {"globalClusterIdentifier": "g", "engineVersion": "8.0.2"}, cloud=cloud
    )
    assert reasons(cluster, {"globalClusterIdentifier": "g", "engineVersion": "8.0.1"}, cloud=cloud) == ""  # fmt: skip
    assert reasons(cluster, {"globalClusterIdentifier": UNKNOWN}) == ""  # checked once known


def test_a_global_database_needs_memory_optimised_classes_and_no_managed_password() -> None:
    cloud = Cloud(
        rds__cluster=[{"id": "c", "arn": "arn:c", "manageMasterUserPassword": True}],
        rds__clusterInstance=[{"clusterIdentifier": "c", "instanceClass": "db.t4g.medium"}],
    )

    refused = reasons("aws:rds/globalCluster:GlobalCluster", {"sourceDbClusterIdentifier": "arn:c"},
                      cloud=cloud)  # fmt: skip

    assert "do not support" in refused and "db.t4g.medium is not supported" in refused
    fine = Cloud(
        rds__cluster=[{"id": "c", "arn": "arn:c"}],
        rds__clusterInstance=[{"clusterIdentifier": "c", "instanceClass": "db.r6g.large"}],
    )
    assert reasons("aws:rds/globalCluster:GlobalCluster", {"sourceDbClusterIdentifier": "arn:c"},
                   cloud=fine) == ""  # fmt: skip


def test_two_clusters_may_not_share_a_final_snapshot() -> None:
    cloud = Cloud()
    inputs = {"finalSnapshotIdentifier": "shop-final"}
    assert check_resource("aws:rds/cluster:Cluster", "a", "urn::a", inputs, cloud) == []

    failures = check_resource("aws:rds/cluster:Cluster", "b", "urn::b", inputs, cloud)

    assert "is also the final snapshot of urn::a" in failures[0].reason
    assert check_resource("aws:rds/cluster:Cluster", "a", "urn::a", inputs, cloud) == []


def test_sqs_batches_above_ten_need_a_batching_window() -> None:
    mapping = "aws:lambda/eventSourceMapping:EventSourceMapping"
    sqs = {"eventSourceArn": "arn:aws:sqs:us-east-1:0:q"}

    assert "needs maximumBatchingWindowInSeconds" in reasons(mapping, {**sqs, "batchSize": 11})
    assert reasons(mapping, {**sqs, "batchSize": 10}) == ""
    assert reasons(mapping, {**sqs, "batchSize": 50, "maximumBatchingWindowInSeconds": 1}) == ""
    stream = {"eventSourceArn": "arn:aws:kinesis:us-east-1:0:stream/s", "batchSize": 500}
    assert reasons(mapping, stream) == ""


def test_graviton_types_need_an_arm64_image() -> None:
    instance = "aws:ec2/instance:Instance"

    assert "Graviton" in reasons(instance, {"instanceType": "t4g.small", "ami": SIMULATED_AMIS["x86_64"]})  # fmt: skip
    assert reasons(instance, {"instanceType": "t4g.small", "ami": SIMULATED_AMIS["arm64"]}) == ""
    assert reasons(instance, {"instanceType": "t3.small", "ami": SIMULATED_AMIS["x86_64"]}) == ""
    assert "Graviton" in reasons(
        "aws:ec2/launchTemplate:LaunchTemplate",
        {"instanceType": "m7gd.large", "imageId": SIMULATED_AMIS["x86_64"]},
    )


def test_serverless_instances_need_a_serverless_v2_cluster() -> None:
    instance = "aws:rds/clusterInstance:ClusterInstance"
    plain = Cloud(rds__cluster=[{"id": "c"}])
    serverless = Cloud(
        rds__cluster=[{"id": "c", "serverlessv2ScalingConfiguration": {"maxCapacity": 4}}]
    )
    inputs = {"clusterIdentifier": "c", "instanceClass": "db.serverless"}

    assert "serverlessv2ScalingConfiguration" in reasons(instance, inputs, cloud=plain)
    assert reasons(instance, inputs, cloud=serverless) == ""


def test_an_aurora_replica_target_holds_at_most_fifteen_replicas() -> None:
    target = "aws:appautoscaling/target:Target"
    replicas = {"serviceNamespace": "rds", "scalableDimension": "rds:cluster:ReadReplicaCount"}

    assert reasons(target, {**replicas, "minCapacity": 1, "maxCapacity": 15}) == ""
    assert "above the 15 replicas" in reasons(
        target, {**replicas, "minCapacity": 1, "maxCapacity": 16}
    )
    assert "minimum capacity 3 is above" in reasons(
        target, {**replicas, "minCapacity": 3, "maxCapacity": 2}
    )
    ecs = {"scalableDimension": "ecs:service:DesiredCount", "minCapacity": 1, "maxCapacity": 50}
    assert reasons(target, ecs) == ""


def test_cloudfront_serves_a_domain_only_with_a_certificate_from_us_east_1() -> None:
    distribution = "aws:cloudfront/distribution:Distribution"
    aliased = {"aliases": ["shop.example.com"]}
    us_east_1 = "arn:aws:acm:us-east-1:000000000000:certificate/abc"

    assert (
        reasons(distribution, {**aliased, "viewerCertificate": {"acmCertificateArn": us_east_1}})
        == ""
    )
    assert "from us-east-1" in reasons(
        distribution,
        {
            **aliased,
            "viewerCertificate": {"acmCertificateArn": us_east_1.replace("us-east-1", "eu-west-1")},
        },
    )
    assert "from us-east-1" in reasons(
        distribution, {**aliased, "viewerCertificate": {"cloudfrontDefaultCertificate": True}}
    )
    assert (
        reasons(distribution, {**aliased, "viewerCertificate": {"acmCertificateArn": UNKNOWN}})
        == ""
    )
    assert (
        reasons(distribution, {"viewerCertificate": {"cloudfrontDefaultCertificate": True}}) == ""
    )


def test_cloudfront_needs_each_origin_named_and_each_behaviour_sent_to_one_of_them() -> None:
    distribution = "aws:cloudfront/distribution:Distribution"
    static = {"originId": "static", "domainName": "assets.s3.us-east-1.amazonaws.com"}
    web = {"originId": "web", "domainName": UNKNOWN}  # the load balancer's, during a preview
    sound = {
        "origins": [static, web],
        "defaultCacheBehavior": {"targetOriginId": "web"},
        "orderedCacheBehaviors": [{"pathPattern": "/static/*", "targetOriginId": "static"}],
    }

    assert reasons(distribution, sound) == ""
    assert reasons(distribution, {**sound, "origins": UNKNOWN}) == ""
    not_yet_named = {**web, "originId": UNKNOWN}
    assert reasons(distribution, {**sound, "origins": [static, not_yet_named, not_yet_named]}) == ""
    assert "'web' has no domainName" in reasons(
        distribution, {**sound, "origins": [static, {"originId": "web"}]}
    )
    assert "not unique" in reasons(distribution, {**sound, "origins": [static, web, web]})
    assert "NoSuchOrigin: the cache behaviour targets the origin 'images'" in reasons(
        distribution,
        {**sound, "orderedCacheBehaviors": [{"pathPattern": "/i/*", "targetOriginId": "images"}]},
    )
    assert "NoSuchOrigin" in reasons(
        distribution, {**sound, "defaultCacheBehavior": {"targetOriginId": "api"}}
    )


def test_a_prefix_list_counts_as_its_size_against_a_group_s_sixty_rules() -> None:
    ingress = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
    cloudfront = simulated_prefix_list_id("com.amazonaws.global.cloudfront.origin-facing")
    on_443 = {"securityGroupId": "sg-1", "fromPort": 443, "prefixListId": cloudfront}
    other_port = {"id": "sim-other", "securityGroupId": "sg-1", "prefixListId": cloudfront}

    assert reasons(ingress, on_443) == ""
    assert (
        reasons(
            ingress,
            on_443,
            cloud=Cloud(
                **{"vpc__securityGroupIngressRule": [{"id": "a", "securityGroupId": "sg-1"}] * 5}
            ),
        )
        == ""
    )
    refused = reasons(
        ingress, on_443, cloud=Cloud(**{"vpc__securityGroupIngressRule": [other_port]})
    )
    assert "would count as 110" in refused
    assert reasons(ingress, {"securityGroupId": "sg-1", "cidrIpv4": "0.0.0.0/0"}) == ""
    # An update checks a rule that already exists (with an id AWS gave it): counted once.
    itself = {**on_443, "id": "sgr-0123", "urn": "urn::x"}
    assert reasons(ingress, on_443, cloud=Cloud(vpc__securityGroupIngressRule=[itself])) == ""


def test_a_manual_snapshot_needs_its_cluster_and_a_name_no_snapshot_has() -> None:
    snapshot = "aws:rds/clusterSnapshot:ClusterSnapshot"
    cloud = Cloud(rds__cluster=[{"id": "shop-aurora-cluster"}])
    before_box = {"dbClusterIdentifier": "shop-aurora-cluster", "dbClusterSnapshotIdentifier": "s1"}

    assert reasons(snapshot, before_box, name="a", cloud=cloud) == ""
    assert "DBClusterNotFoundFault" in reasons(
        snapshot, {**before_box, "dbClusterIdentifier": "gone"}, name="a", cloud=cloud
    )
    # Final and manual snapshots share AWS's one namespace of cluster snapshot names.
    final = {"finalSnapshotIdentifier": "s1", "skipFinalSnapshot": False}
    assert "DBClusterSnapshotAlreadyExists" in reasons(
        "aws:rds/cluster:Cluster", final, name="b", cloud=cloud
    )
