"""Drift through the API with the simulator: an admin's out-of-band change in the pretend
cloud is found by a drift check, reconciled, and the next check finds nothing."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient

from tests.helpers import create_environment, run
from tests.service.notifications.receiver import webhook_receiver

INSTANCE = "aws:ec2/instance:Instance"


def box(client: TestClient, name: str = "shop") -> dict[str, Any]:
    [instance] = [
        resource
        for resource in client.get(f"/api/environments/{name}/resources").json()
        if resource["type"] == INSTANCE
    ]
    return dict(instance)


def change_out_of_band(client: TestClient, name: str, **body: Any) -> Any:
    return client.post(f"/api/environments/{name}/simulator/out-of-band-change", json=body)


def test_an_out_of_band_change_is_found_reconciled_and_gone(client: TestClient) -> None:
    create_environment(client, "shop")
    run(client, "/api/environments/shop/promote")
    assert client.get("/api/environments/shop/drift").json()["status"] == "unknown"
    first = run(client, "/api/environments/shop/drift-check")
    assert (first["status"], first["drift"]) == ("succeeded", [])
    assert client.get("/api/environments/shop/drift").json()["status"] == "in_sync"
    declared_type = box(client)["key_inputs"]["instanceType"]

    changed = change_out_of_band(
        client, "shop", resource=box(client)["name"], properties={"instanceType": "m5.24xlarge"}
    )
    assert changed.status_code == 201, changed.text
    assert changed.json()["simulated"] is True

    check = run(client, "/api/environments/shop/drift-check")
    assert check["status"] == "succeeded"
    assert [(item["type"], item["op"], item["properties"]) for item in check["drift"]] == [
        (INSTANCE, "update", ["instanceType"])
    ]
    drift = client.get("/api/environments/shop/drift").json()
    assert drift["status"] == "drifted"
    assert drift["check_operation_id"] == check["id"]
    assert drift["resources"][0]["name"] == box(client)["name"]
    # A check changes nothing: the state still says what was applied.
    assert box(client)["key_inputs"]["instanceType"] == declared_type

    reconciled = run(client, "/api/environments/shop/reconcile")
    assert reconciled["status"] == "succeeded", reconciled
    assert reconciled["changes"]["update"] == 1
    assert box(client)["key_inputs"]["instanceType"] == declared_type
    after = client.get("/api/environments/shop/drift").json()
    assert after["status"] == "unknown"  # changed since the last check: only a check can say

    again = run(client, "/api/environments/shop/drift-check")
    assert again["drift"] == []
    assert client.get("/api/environments/shop/drift").json()["status"] == "in_sync"


def test_a_plain_apply_does_not_see_drift_but_a_refresh_accepts_it(client: TestClient) -> None:
    create_environment(client, "shop")
    run(client, "/api/environments/shop/promote")
    name = box(client)["name"]
    change_out_of_band(client, "shop", resource=name, properties={"instanceType": "m5.large"})

    # A promote diffs the program against the state, as Pulumi does: the drift survives it.
    run(client, "/api/environments/shop/promote")
    check = run(client, "/api/environments/shop/drift-check")
    assert [item["name"] for item in check["drift"]] == [name]

    refreshed = run(client, "/api/environments/shop/refresh")
    assert refreshed["status"] == "succeeded"
    assert box(client)["key_inputs"]["instanceType"] == "m5.large"  # the cloud, accepted
    assert run(client, "/api/environments/shop/drift-check")["drift"] == []


def test_a_resource_deleted_out_of_band_is_created_again(client: TestClient) -> None:
    create_environment(client, "shop")
    run(client, "/api/environments/shop/promote")
    instance = box(client)
    change_out_of_band(client, "shop", resource=instance["urn"], deleted=True)

    check = run(client, "/api/environments/shop/drift-check")
    assert [(item["name"], item["op"]) for item in check["drift"]] == [(instance["name"], "delete")]

    reconciled = run(client, "/api/environments/shop/reconcile")
    assert reconciled["changes"]["create"] == 1
    assert box(client)["urn"] == instance["urn"]
    assert run(client, "/api/environments/shop/drift-check")["drift"] == []


def test_drift_detected_goes_to_the_webhooks_that_want_it(client: TestClient) -> None:
    create_environment(client, "shop")
    run(client, "/api/environments/shop/promote")
    with webhook_receiver() as receiver:
        hook = client.post(
            "/api/webhooks",
            json={"name": "drift", "url": receiver.url, "events": ["drift.detected"]},
        )
        assert hook.status_code == 201, hook.text
        run(client, "/api/environments/shop/drift-check")  # in sync: nothing to announce
        change_out_of_band(
            client, "shop", resource=box(client)["name"], properties={"instanceType": "m5.large"}
        )
        check = run(client, "/api/environments/shop/drift-check")

        [request] = receiver.wait_for(1)
    payload = json.loads(request.body)
    assert payload["event"] == "drift.detected"
    assert payload["data"]["operation_id"] == check["id"]
    assert payload["data"]["simulated"] is True
    assert payload["data"]["drift"] == [
        {
            "type": INSTANCE,
            "name": box(client)["name"],
            "op": "update",
            "properties": ["instanceType"],
        }
    ]


def test_out_of_band_changes_are_for_admins_and_checked(client: TestClient) -> None:
    create_environment(client, "shop")
    # Nothing deployed: nothing to check, nothing to change.
    assert client.post("/api/environments/shop/drift-check").status_code == 409
    run(client, "/api/environments/shop/promote")
    name = box(client)["name"]

    unknown = change_out_of_band(client, "shop", resource="no-such", properties={"a": 1})
    assert unknown.status_code == 404
    empty = change_out_of_band(client, "shop", resource=name)
    assert empty.status_code == 422
    assert empty.json()["fields"][0]["field"] == "properties"
    both = change_out_of_band(client, "shop", resource=name, properties={"a": 1}, deleted=True)
    assert both.status_code == 422
    operator = client.post("/api/tokens", json={"name": "olga", "role": "operator"}).json()["token"]
    refused = client.post(
        "/api/environments/shop/simulator/out-of-band-change",
        json={"resource": name, "properties": {"instanceType": "m5.large"}},
        headers={"Authorization": f"Bearer {operator}"},
    )
    assert refused.status_code == 403
    assert change_out_of_band(client, "shop", resource=name, properties={"x": 1}).status_code == 201

    audit = client.get("/api/audit", params={"action": "simulator.change_resource"}).json()
    assert [(record["actor"], record["outcome"]) for record in audit] == [
        ("bootstrap", "ok"),
        ("olga", "denied"),
        ("bootstrap", "failed"),
        ("bootstrap", "failed"),
        ("bootstrap", "failed"),
    ]
    assert "[simulator]" in audit[0]["detail"]
