"""Finding 8: only CloudFront reaches the load balancer once CloudFront is in front of it."""

from __future__ import annotations

import dataclasses
from typing import Any

from service.engines.secrets import SECRET_SIGNATURE, SECRET_SIGNATURE_KEY, redact
from tests.programs.conftest import SPEC, declare
from tests.programs.lookalike import Recorded, run_build

CERTIFICATE = "arn:aws:acm:eu-west-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"


def _balancer_ingress(recorded: Recorded) -> list[dict[str, Any]]:
    return [
        inputs
        for kind, name, inputs in recorded.resources
        if kind == INGRESS and name.startswith("acme-lb-in-")
    ]


def test_below_cloudfront_the_balancer_serves_the_internet() -> None:
    recorded = run_build(SPEC.at_tier(2))

    assert {(r["fromPort"], r["cidrIpv4"]) for r in _balancer_ingress(recorded)} == {
        (80, "0.0.0.0/0"),
        (443, "0.0.0.0/0"),
    }
    assert not recorded.of_type("aws:lb/listenerRule:ListenerRule")


def test_behind_cloudfront_the_balancer_admits_only_cloudfront_s_prefix_list() -> None:
    for certificate, port in ((None, 80), (CERTIFICATE, 443)):
        recorded = run_build(dataclasses.replace(SPEC, tier=3, certificate_arn=certificate))

        (rule,) = _balancer_ingress(recorded)
        assert (rule["fromPort"], rule["toPort"], rule["prefixListId"]) == (
            port,
            port,
            "pl-cloudfront",
        )
        assert "cidrIpv4" not in rule
        assert recorded.looked_up("aws:ec2/getManagedPrefixList:getManagedPrefixList") == [
            {"name": "com.amazonaws.global.cloudfront.origin-facing"}
        ]


def test_the_listener_forwards_only_requests_with_the_secret_header_cloudfront_sends() -> None:
    recorded = run_build(dataclasses.replace(SPEC, tier=5, certificate_arn=CERTIFICATE))

    https = recorded.named("acme-lb-https")
    assert https["defaultActions"][0]["type"] == "fixed-response"
    assert https["defaultActions"][0]["fixedResponse"]["statusCode"] == "403"
    rule = recorded.named("acme-lb-from-cloudfront")
    assert rule["listenerArn"] == "arn:aws:sim:::acme-lb-https"
    assert rule["actions"][0]["type"] == "forward"
    assert rule["conditions"][SECRET_SIGNATURE_KEY] == SECRET_SIGNATURE
    (condition,) = rule["conditions"]["value"]
    required = condition["httpHeader"]["values"]
    assert condition["httpHeader"]["httpHeaderName"] == "X-Stepladder-Origin"

    origins = recorded.named("acme-edge-cdn")["origins"]
    assert origins[SECRET_SIGNATURE_KEY] == SECRET_SIGNATURE
    web = next(o for o in origins["value"] if o["originId"] == "web")
    assert web["customHeaders"] == [{"name": "X-Stepladder-Origin", "value": required[0]}]
    # The value is the one stored in the secret, read back: the same on every run.
    assert required == ["stored-in-acme-lb-origin-secret-id"]
    assert "secretString" not in recorded.named("acme-lb-origin-secret-value")


def test_the_header_value_is_redacted_wherever_stepladder_reports_inputs() -> None:
    declared = declare(dataclasses.replace(SPEC, tier=3))

    for resource in (declared.named("acme-edge-cdn"), declared.named("acme-lb-from-cloudfront")):
        reported = str(redact(resource.inputs))
        assert "X-Stepladder-Origin" not in reported, resource.name


def test_the_domain_reaches_the_site_through_cloudfront_with_a_us_east_1_certificate() -> None:
    declared = declare(SPEC.at_tier(3))

    distribution = declared.one("aws:cloudfront/distribution:Distribution")
    assert distribution.inputs["aliases"] == ["shop.example.com"]
    viewer = distribution.inputs["viewerCertificate"]
    assert viewer["acmCertificateArn"].startswith("arn:aws:acm:us-east-1:")
    assert viewer["sslSupportMethod"] == "sni-only"
    certificate = declared.one("aws:acm/certificate:Certificate").inputs
    assert (certificate["domainName"], certificate["validationMethod"]) == (
        "shop.example.com",
        "DNS",
    )
    (route,) = declared.named("acme-dns-eu-west-1").inputs["aliases"]
    assert route["name"] == distribution.outputs["domainName"]
    assert (route["zoneId"], route["evaluateTargetHealth"]) == ("Z2FDTNDATAQYW2", False)


def test_at_tier_7_the_secondary_region_answers_beside_cloudfront() -> None:
    declared = declare(SPEC.at_tier(7))

    (primary,) = declared.named("acme-dns-eu-west-1").inputs["aliases"]
    (secondary,) = declared.named("acme-dns-us-east-1").inputs["aliases"]
    assert primary["zoneId"] == "Z2FDTNDATAQYW2"
    assert secondary["name"].startswith("acme-us-east-1-lb-alb.us-east-1.elb.")
    # The secondary region and CloudFront's certificate share the one us-east-1 provider.
    assert len(declared.of_type("pulumi:providers:aws")) == 2


def test_without_a_hosted_zone_cloudfront_keeps_its_own_name() -> None:
    declared = declare(dataclasses.replace(SPEC, tier=3, hosted_zone_id=None, domain_name=None))

    distribution = declared.one("aws:cloudfront/distribution:Distribution").inputs
    assert distribution.get("aliases", []) == []
    assert distribution["viewerCertificate"] == {"cloudfrontDefaultCertificate": True}
    assert declared.counts()["aws:acm/certificate:Certificate"] == 0
