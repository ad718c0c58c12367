"""Drift with the real engine: the `pulumi` CLI's refresh in preview mode and `up --refresh`,
against the simulated `aws` plugin, whose account a test can change behind the stack's back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.e2e.conftest import Server
from tests.integration.aws_plugin.cloud import SimulatedAccount
from tests.integration.test_pulumi_engine import assert_real_engine_events, run

INSTANCE = "aws:ec2/instance:Instance"


def the_instance(account: SimulatedAccount) -> dict[str, Any]:
    [record] = [record for record in account.records() if record["type"] == INSTANCE]
    return record


def test_a_change_made_in_the_cloud_is_found_then_reconciled(
    pulumi_server: Callable[..., Server], simulated_aws: SimulatedAccount
) -> None:
    server = pulumi_server()
    created = server.client.post("/api/environments", json={"name": "shop", "region": "eu-west-1"})
    assert created.status_code == 201, created.text
    assert run(server, "/api/environments/shop/promote")["status"] == "succeeded"
    first = run(server, "/api/environments/shop/drift-check")
    assert (first["status"], first["drift"]) == ("succeeded", []), first
    applied_type = the_instance(simulated_aws)["inputs"]["instanceType"]

    # Someone resizes the box in the console: the account changes, the stack does not know.
    record = the_instance(simulated_aws)
    record["inputs"]["instanceType"] = "m5.large"
    record["outputs"]["instanceType"] = "m5.large"
    simulated_aws.put(record)

    check = run(server, "/api/environments/shop/drift-check")
    assert check["status"] == "succeeded", check
    assert_real_engine_events(server, check["id"])

    [drifted] = [item for item in check["drift"] if item["type"] == INSTANCE]
    assert "instanceType" in drifted["properties"]
    assert server.client.get("/api/environments/shop/drift").json()["status"] == "drifted"
    # A check writes nothing: the account keeps the change until someone reconciles.
    assert the_instance(simulated_aws)["inputs"]["instanceType"] == "m5.large"

    reconciled = run(server, "/api/environments/shop/reconcile")
    assert reconciled["status"] == "succeeded", reconciled
    assert the_instance(simulated_aws)["inputs"]["instanceType"] == applied_type
    again = run(server, "/api/environments/shop/drift-check")
    assert again["drift"] == [], again
    assert server.client.get("/api/environments/shop/drift").json()["status"] == "in_sync"
