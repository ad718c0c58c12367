"""Definitions AWS would refuse: each is either built the way AWS accepts or refused."""

from __future__ import annotations

import dataclasses
import json

import pytest

from programs.components.master_password import PASSWORD_VERSION
from service.engines.model import EngineError
from service.engines.secrets import SECRET_SIGNATURE, SECRET_SIGNATURE_KEY
from tests.programs.conftest import SPEC, declare, unsecret
from tests.programs.lookalike import GLOBAL_ENGINE_VERSION, run_build

CLUSTER = "aws:rds/cluster:Cluster"
SECRET = "aws:secretsmanager/secret:Secret"
TIER_7 = dataclasses.replace(SPEC, tier=7, db_instance_class="db.r6g.large")


@pytest.mark.parametrize(
    ("instance_type", "architecture"),
    [
        ("t3.small", "x86_64"),
        ("m7g.large", "arm64"),
        ("t4g.micro", "arm64"),
        ("c7i.large", "x86_64"),
    ],
)
def test_web_servers_boot_an_image_of_their_architecture(
    instance_type: str, architecture: str
) -> None:
    fixed = run_build(dataclasses.replace(SPEC, tier=2, web_instance_type=instance_type))
    parameters = {args["name"] for args in fixed.looked_up("aws:ssm/getParameter:getParameter")}
    assert parameters == {
        f"/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-{architecture}"
    }
    assert {i["ami"] for i in fixed.of_type("aws:ec2/instance:Instance")} == {
        "ami-arm64" if architecture == "arm64" else "ami-x86"
    }

    scaled = declare(dataclasses.replace(SPEC, tier=5, web_instance_type=instance_type))
    template = scaled.one("aws:ec2/launchTemplate:LaunchTemplate").inputs
    assert template["imageId"].startswith("resolve:ssm:/aws/service/ami-amazon-linux-latest/")
    assert template["imageId"].endswith(f"-{architecture}")


def test_lambda_batches_above_ten_messages_get_a_batching_window() -> None:
    small = declare(dataclasses.replace(SPEC, tier=6, lambda_batch_size=10))
    large = declare(dataclasses.replace(SPEC, tier=6, lambda_batch_size=500))

    feed = "aws:lambda/eventSourceMapping:EventSourceMapping"
    assert "maximumBatchingWindowInSeconds" not in small.one(feed).inputs
    assert large.one(feed).inputs["maximumBatchingWindowInSeconds"] >= 1
    window = large.one(feed).inputs["maximumBatchingWindowInSeconds"]
    timeout = large.one("aws:lambda/function:Function").inputs["timeout"]
    # AWS: the queue's visibility timeout covers six function timeouts plus the window.
    assert large.inputs("acme-work-queue")["visibilityTimeoutSeconds"] >= 6 * timeout + window


@pytest.mark.parametrize("instance_class", ["db.t4g.medium", "db.t3.large"])
def test_tier_7_refuses_burstable_database_classes(instance_class: str) -> None:
    with pytest.raises(EngineError, match="memory-optimised db_instance_class"):
        declare(dataclasses.replace(TIER_7, db_instance_class=instance_class))


def test_a_single_region_definition_keeps_the_aws_managed_password() -> None:
    declared = declare(dataclasses.replace(SPEC, tier=6, secondary_region=None))

    cluster = declared.one(CLUSTER).inputs
    assert cluster["manageMasterUserPassword"] is True
    assert not [r.name for r in declared.of_type(SECRET) if "master-password" in r.name]


@pytest.mark.parametrize("tier", [1, 6, 7])
def test_a_multi_region_definition_owns_its_password_write_only(tier: int) -> None:
    recorded = run_build(dataclasses.replace(TIER_7, tier=tier))

    cluster = recorded.named("acme-aurora-cluster")
    assert cluster["manageMasterUserPassword"] is False
    # Marked secret, so Pulumi encrypts it and Stepladder's redaction masks it.
    assert cluster["masterPasswordWo"] == {
        SECRET_SIGNATURE_KEY: SECRET_SIGNATURE,
        "value": "generated-in-aws",
    }
    assert cluster["masterPasswordWoVersion"] == PASSWORD_VERSION
    assert "masterPassword" not in cluster
    value = recorded.named("acme-aurora-master-password-value")
    assert value["secretStringWo"][SECRET_SIGNATURE_KEY] == SECRET_SIGNATURE
    assert '"password": "generated-in-aws"' in value["secretStringWo"]["value"]
    # The cluster and the secret take the same password in the same update.
    assert value["secretStringWoVersion"] == PASSWORD_VERSION
    assert "secretString" not in value


def test_the_password_is_secret_and_stays_out_of_what_the_simulator_records() -> None:
    declared = declare(dataclasses.replace(TIER_7, tier=1))

    cluster = declared.one(CLUSTER).inputs
    assert "generated-in-aws" not in str(cluster)
    assert "masterPassword" not in cluster


def test_federated_clusters_outside_the_global_database_keep_managed_passwords() -> None:
    recorded = run_build(TIER_7)

    for name in ("acme-users-cluster", "acme-orders-cluster"):
        assert recorded.named(name)["manageMasterUserPassword"] is True


def test_the_secondary_cluster_follows_the_global_engine_version_with_a_regional_key() -> None:
    recorded = run_build(TIER_7)

    secondary = recorded.named("acme-us-east-1-aurora-cluster")
    assert secondary["engineVersion"] == GLOBAL_ENGINE_VERSION
    assert secondary["kmsKeyId"].endswith(":key/rds-default")
    assert recorded.looked_up("aws:kms/getAlias:getAlias") == [{"name": "alias/aws/rds"}]
    assert {
        r["instanceClass"] for r in recorded.of_type("aws:rds/clusterInstance:ClusterInstance")
    } == {"db.r6g.large"}


def test_the_worker_reads_only_its_own_queue_and_is_fed_after_its_permissions() -> None:
    recorded = run_build(dataclasses.replace(SPEC, tier=6))

    policy = json.loads(recorded.named("acme-work-worker-access")["policy"])
    queue_statement = next(s for s in policy["Statement"] if "sqs:ReceiveMessage" in s["Action"])
    assert queue_statement["Resource"] == "arn:aws:sim:::acme-work-queue"
    assert not recorded.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert "acme-work-worker-access" in recorded.depends_on["acme-work-worker-feed"]


CERTIFICATE = "arn:aws:acm:eu-west-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"


def test_cloudfront_reaches_an_https_balancer_by_a_name_its_certificate_covers() -> None:
    declared = declare(dataclasses.replace(SPEC, tier=3, certificate_arn=CERTIFICATE))

    distribution = declared.one("aws:cloudfront/distribution:Distribution").inputs
    web = next(o for o in unsecret(distribution["origins"]) if o["originId"] == "web")
    assert web["domainName"] == "origin.shop.example.com"
    assert web["customOriginConfig"]["originProtocolPolicy"] == "https-only"
    record = declared.inputs("acme-edge-origin")
    assert record["name"] == "origin.shop.example.com"
    assert record["aliases"][0]["name"].endswith(".elb.simulated.invalid")


def test_without_a_certificate_cloudfront_uses_the_balancer_name_over_http() -> None:
    declared = declare(dataclasses.replace(SPEC, tier=3))

    distribution = declared.one("aws:cloudfront/distribution:Distribution").inputs
    web = next(o for o in unsecret(distribution["origins"]) if o["originId"] == "web")
    assert web["domainName"].endswith(".elb.simulated.invalid")
    assert web["customOriginConfig"]["originProtocolPolicy"] == "http-only"


def test_a_certificate_without_a_domain_is_refused_from_tier_3() -> None:
    spec = dataclasses.replace(
        SPEC, certificate_arn=CERTIFICATE, hosted_zone_id=None, domain_name=None
    )

    declare(spec.at_tier(2))  # the ALB alone serves its certificate fine
    with pytest.raises(EngineError, match="name its certificate covers"):
        declare(spec.at_tier(3))


def test_the_secondary_region_serves_with_the_web_profile_and_forwards_writes() -> None:
    declared = declare(TIER_7)

    profiles = {
        r.inputs.get("iamInstanceProfile", {}).get("name")
        for r in declared.of_type("aws:ec2/launchTemplate:LaunchTemplate")
    }
    assert len(profiles) == 1 and None not in profiles  # both regions, one global profile
    secondary = declared.inputs("acme-us-east-1-aurora-cluster")
    assert secondary["enableGlobalWriteForwarding"] is True
    postgres = declare(dataclasses.replace(TIER_7, db_engine="aurora-postgresql"))
    assert "enableGlobalWriteForwarding" not in postgres.inputs("acme-us-east-1-aurora-cluster")
    assert all(r.inputs["allowOverwrite"] for r in declared.of_type("aws:route53/record:Record"))
