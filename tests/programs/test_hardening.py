"""Finding 12's hardening, each read from what the programs declare."""

from __future__ import annotations

import dataclasses

from tests.programs.conftest import SPEC, declare

CERTIFICATE = "arn:aws:acm:eu-west-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"
BALANCER = "aws:lb/loadBalancer:LoadBalancer"


def test_https_listeners_use_a_current_tls_policy() -> None:
    declared = declare(dataclasses.replace(SPEC, tier=2, certificate_arn=CERTIFICATE))

    https = [
        r.inputs for r in declared.of_type("aws:lb/listener:Listener") if r.inputs["port"] == 443
    ]
    assert [listener["sslPolicy"] for listener in https] == ["ELBSecurityPolicy-TLS13-1-2-2021-06"]


def test_the_balancer_drops_invalid_headers_and_is_protected_with_the_environment() -> None:
    plain = declare(SPEC.at_tier(2)).one(BALANCER).inputs
    protected = declare(dataclasses.replace(SPEC, tier=2, protected=True)).one(BALANCER).inputs

    assert plain["dropInvalidHeaderFields"] is True
    assert plain.get("enableDeletionProtection") is False
    assert protected["enableDeletionProtection"] is True


def test_database_class_changes_apply_immediately() -> None:
    instances = declare(SPEC.at_tier(3)).of_type("aws:rds/clusterInstance:ClusterInstance")

    assert instances and all(r.inputs["applyImmediately"] is True for r in instances)


def test_the_alarm_topic_is_encrypted_with_a_key_cloudwatch_may_use() -> None:
    declared = declare(SPEC.at_tier(5))

    topic = declared.one("aws:sns/topic:Topic").inputs
    assert topic["kmsMasterKeyId"] == declared.one("aws:kms/key:Key").outputs["arn"]
    assert "cloudwatch.amazonaws.com" in declared.one("aws:kms/key:Key").inputs["policy"]


def test_root_volumes_are_encrypted_without_replacing_a_running_box() -> None:
    box = declare(SPEC.at_tier(0))

    assert box.inputs("acme-web-0")["rootBlockDevice"]["encrypted"] is True
    assert "rootBlockDevice.encrypted" in box.options[box.named("acme-web-0").urn]["ignore_changes"]
    template = declare(SPEC.at_tier(5)).one("aws:ec2/launchTemplate:LaunchTemplate").inputs
    (root,) = template["blockDeviceMappings"]
    assert (root["deviceName"], root["ebs"]["encrypted"]) == ("/dev/xvda", "true")
