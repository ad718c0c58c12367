"""Every capacity knob of the definition reaches the resources through the spec."""

from __future__ import annotations

import dataclasses
import json

from tests.programs.conftest import SPEC, declare


def test_reader_count_and_max_drive_readers_and_replica_scaling() -> None:
    spec = dataclasses.replace(SPEC, tier=3, reader_count=2, reader_max=9, target_cpu=35)
    declared = declare(spec)

    target = declared.one("aws:appautoscaling/target:Target").inputs
    # ReadReplicaCount counts the standby and the fixed readers as well.
    assert (target["minCapacity"], target["maxCapacity"]) == (1 + 2, 1 + 9)
    readers = [
        r for r in declared.of_type("aws:rds/clusterInstance:ClusterInstance") if "reader" in r.name
    ]
    assert len(readers) == 2
    policy = declared.one("aws:appautoscaling/policy:Policy").inputs
    assert policy["targetTrackingScalingPolicyConfiguration"]["targetValue"] == 35


def test_web_capacity_and_instance_type_reach_the_auto_scaling_group() -> None:
    spec = dataclasses.replace(
        SPEC, tier=5, web_min=3, web_max=12, target_cpu=40, web_instance_type="m7g.large"
    )
    declared = declare(spec)

    group = declared.one("aws:autoscaling/group:Group").inputs
    assert (group["minSize"], group["maxSize"]) == (3, 12)
    template = declared.one("aws:ec2/launchTemplate:LaunchTemplate").inputs
    assert template["instanceType"] == "m7g.large"
    tracking = next(
        r.inputs for r in declared.of_type("aws:autoscaling/policy:Policy")
        if r.inputs["policyType"] == "TargetTrackingScaling"
    )  # fmt: skip
    assert tracking["targetTrackingConfiguration"]["targetValue"] == 40
    thresholds = sorted(
        r.inputs["threshold"]
        for r in declared.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
        if r.name.endswith(("scale-out-alarm", "scale-in-alarm"))
    )
    assert thresholds == [20, 60]


def test_instance_classes_engine_and_cache_knobs() -> None:
    spec = dataclasses.replace(
        SPEC,
        tier=4,
        db_engine="aurora-postgresql",
        db_instance_class="db.r7g.large",
        cache_node_type="cache.r7g.large",
        cache_node_count=3,
        web_instance_type="c7i.xlarge",
    )
    declared = declare(spec)

    assert declared.one("aws:rds/cluster:Cluster").inputs["engine"] == "aurora-postgresql"
    assert declared.inputs("acme-aurora-in-from-web")["fromPort"] == 5432
    assert {
        r.inputs["instanceClass"]
        for r in declared.of_type("aws:rds/clusterInstance:ClusterInstance")
    } == {"db.r7g.large"}
    cache = declared.one("aws:elasticache/replicationGroup:ReplicationGroup").inputs
    assert (cache["nodeType"], cache["numCacheClusters"]) == ("cache.r7g.large", 3)
    assert {r.inputs["instanceType"] for r in declared.of_type("aws:ec2/instance:Instance")} == {
        "c7i.xlarge"
    }


def test_lambda_memory_and_batch_size() -> None:
    declared = declare(
        dataclasses.replace(SPEC, tier=6, lambda_memory_mb=1024, lambda_batch_size=50)
    )

    assert declared.one("aws:lambda/function:Function").inputs["memorySize"] == 1024
    assert (
        declared.one("aws:lambda/eventSourceMapping:EventSourceMapping").inputs["batchSize"] == 50
    )


def test_business_hours_become_scheduled_actions_with_a_time_zone() -> None:
    spec = dataclasses.replace(
        SPEC, tier=5, business_hours_start=7, business_hours_end=19,
        business_hours_days="MON-FRI", business_hours_timezone="Europe/Berlin",
        web_min=4, off_hours_web_min=1,
    )  # fmt: skip
    schedules = {
        r.name: r.inputs for r in declare(spec).of_type("aws:autoscaling/schedule:Schedule")
    }

    start = schedules["acme-web-business-hours-start"]
    end = schedules["acme-web-business-hours-end"]
    assert (start["recurrence"], start["minSize"]) == ("0 7 * * MON-FRI", 4)
    assert (end["recurrence"], end["minSize"]) == ("0 19 * * MON-FRI", 1)
    assert start["timeZone"] == end["timeZone"] == "Europe/Berlin"
    assert (
        declare(dataclasses.replace(SPEC, tier=5)).counts()["aws:autoscaling/schedule:Schedule"]
        == 0
    )


def test_certificate_turns_the_listener_to_https_with_a_redirect() -> None:
    arn = "arn:aws:acm:eu-west-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"
    declared = declare(dataclasses.replace(SPEC, tier=2, certificate_arn=arn))

    listeners = {r.inputs["port"]: r.inputs for r in declared.of_type("aws:lb/listener:Listener")}
    assert listeners[443]["protocol"] == "HTTPS" and listeners[443]["certificateArn"] == arn
    assert listeners[80]["defaultActions"][0]["type"] == "redirect"


def test_protected_environment_protects_stateful_resources() -> None:
    declared = declare(dataclasses.replace(SPEC, tier=7, protected=True))

    for resource_type in (
        "aws:rds/cluster:Cluster",
        "aws:dynamodb/table:Table",
        "aws:s3/bucket:Bucket",
        "aws:elasticache/replicationGroup:ReplicationGroup",
        "aws:sqs/queue:Queue",
        "aws:rds/globalCluster:GlobalCluster",
    ):
        for resource in declared.of_type(resource_type):
            assert resource.protect, resource.name
    assert all(r.inputs["deletionProtection"] for r in declared.of_type("aws:rds/cluster:Cluster"))
    assert not any(r.protect for r in declared.of_type("aws:ec2/instance:Instance"))


def test_unused_knobs_are_ignored() -> None:
    plain = declare(dataclasses.replace(SPEC, tier=1))
    knobbed = declare(dataclasses.replace(SPEC, tier=1, lambda_memory_mb=2048, cache_node_count=5))

    assert {r.urn: r.inputs for r in plain.resources} == {
        r.urn: r.inputs for r in knobbed.resources
    }


def test_emulator_endpoint_reaches_the_provider_with_its_skip_flags() -> None:
    spec = dataclasses.replace(SPEC, tier=0, aws_endpoint_url="http://127.0.0.1:5000")
    # Provider inputs reach the engine JSON-encoded, as Pulumi sends them to the plugin.
    provider = declare(spec).one("pulumi:providers:aws").inputs

    endpoints = json.loads(provider["endpoints"])[0]
    assert endpoints["ec2"] == endpoints["rds"] == endpoints["elbv2"] == "http://127.0.0.1:5000"
    for flag in (
        "skipCredentialsValidation",
        "skipRequestingAccountId",
        "skipMetadataApiCheck",
        "s3UsePathStyle",
    ):
        assert json.loads(provider[flag]) is True, flag
    assert provider["region"] == "eu-west-1"


def test_without_an_emulator_the_provider_talks_to_aws() -> None:
    provider = declare(dataclasses.replace(SPEC, tier=0)).one("pulumi:providers:aws").inputs

    assert "endpoints" not in provider
    assert json.loads(provider["skipCredentialsValidation"]) is False
    assert "skipRequestingAccountId" not in provider


def test_stepping_down_to_2_caps_replica_scaling_at_the_managed_replicas() -> None:
    spec = dataclasses.replace(SPEC, reader_count=2, reader_max=9)
    at_3 = declare(spec.at_tier(3)).one("aws:appautoscaling/target:Target")
    at_2 = declare(spec.at_tier(2)).one("aws:appautoscaling/target:Target")

    # The same target (an update, not a delete): AWS removes the readers it added down to
    # the standby, before the step to tier 1 removes the target.
    assert at_2.urn == at_3.urn
    assert (at_2.inputs["minCapacity"], at_2.inputs["maxCapacity"]) == (1, 1)
    assert declare(spec.at_tier(2)).counts()["aws:appautoscaling/policy:Policy"] == 0
    assert declare(spec.at_tier(1)).counts()["aws:appautoscaling/target:Target"] == 0
    federated = declare(spec.at_tier(7)).of_type("aws:appautoscaling/target:Target")
    assert len(federated) == 1  # only the main cluster scales
