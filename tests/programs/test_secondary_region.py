"""Finding 9: tier 7's secondary region serves users (HTTPS, sessions, writes or reads)."""

from __future__ import annotations

import dataclasses
import json

from tests.programs.conftest import SPEC, declare
from tests.programs.lookalike import run_build

CERTIFICATE = "aws:acm/certificate:Certificate"
TABLE = "aws:dynamodb/table:Table"


def test_the_secondary_balancer_serves_https_with_a_certificate_of_its_region() -> None:
    declared = declare(SPEC.at_tier(7))

    listener = declared.inputs("acme-us-east-1-lb-https")
    assert listener["port"] == 443
    valid = declared.named("acme-us-east-1-certificate-valid")
    assert listener["certificateArn"] == valid.outputs.get(
        "certificateArn", valid.inputs["certificateArn"]
    )
    certificate = declared.named("acme-us-east-1-certificate")
    assert certificate.outputs["arn"].startswith("arn:aws:acm:us-east-1:")
    assert certificate.inputs["domainName"] == "shop.example.com"
    # One validation record serves both certificates of the name (ACM reuses it).
    validations = [
        r for r in declared.of_type("aws:route53/record:Record") if "validation" in r.name
    ]
    assert len(validations) == 1
    assert valid.inputs["validationRecordFqdns"] == [validations[0].outputs["fqdn"]]


def test_without_a_hosted_zone_the_secondary_balancer_stays_on_http() -> None:
    declared = declare(dataclasses.replace(SPEC, tier=7, hosted_zone_id=None, domain_name=None))

    assert declared.counts()[CERTIFICATE] == 0
    assert declared.inputs("acme-us-east-1-lb-http")["defaultActions"][0]["type"] == "forward"


def test_sessions_are_replicated_to_the_secondary_region_at_tier_7_only() -> None:
    at_6 = declare(SPEC.at_tier(6)).one(TABLE).inputs
    at_7 = declare(SPEC.at_tier(7)).one(TABLE).inputs

    assert at_6.get("replicas", []) == []
    assert [replica["regionName"] for replica in at_7["replicas"]] == ["us-east-1"]
    assert at_6["streamEnabled"] is True and at_7["streamEnabled"] is True


def test_web_servers_of_either_region_may_use_their_region_s_copy_of_the_table() -> None:
    recorded = run_build(SPEC.at_tier(7))

    policy = json.loads(recorded.named("acme-sessions-web-table-access")["policy"])
    assert policy["Statement"][0]["Resource"] == "arn:aws:sim:*::acme-sessions-table"
