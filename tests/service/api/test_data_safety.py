"""Data safety through the API: destructive steps need confirmation, protected ones refusal."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.helpers import create_environment, run, wait_for_operation


def test_demote_that_deletes_the_database_needs_confirmation(client: TestClient) -> None:
    create_environment(client, "shop")
    run(client, "/api/environments/shop/tier", target_tier=1)

    refused = client.post("/api/environments/shop/demote")

    assert refused.status_code == 409
    body = refused.json()
    assert body["error"] == "confirmation_required"
    assert [item["name"] for item in body["data_loss"]] == ["shop-aurora-cluster"]
    assert '"confirm": "shop"' in body["detail"]
    wrong = client.post("/api/environments/shop/demote", json={"confirm": "other"})
    assert wrong.status_code == 409
    assert client.get("/api/environments/shop/operations").json()[0]["kind"] == "set_tier"

    confirmed = client.post("/api/environments/shop/demote", json={"confirm": "shop"})

    assert confirmed.status_code == 202
    assert confirmed.json()["destructive"] is True
    assert confirmed.json()["confirmed"] is True
    done = wait_for_operation(client, confirmed.json()["id"])
    assert done["status"] == "succeeded"
    assert client.get("/api/environments/shop").json()["applied_tier"] == 0


def test_steps_up_and_non_destructive_steps_down_need_no_confirmation(client: TestClient) -> None:
    create_environment(client, "shop")
    up = run(client, "/api/environments/shop/tier", target_tier=2)
    assert up["destructive"] is False

    down = run(client, "/api/environments/shop/demote")  # 2 -> 1 deletes no data

    assert down["status"] == "succeeded"
    assert down["destructive"] is False and down["data_loss"] == []


def test_destroy_at_tier_0_needs_confirmation_because_the_box_holds_the_database(
    client: TestClient,
) -> None:
    create_environment(client, "shop")
    run(client, "/api/environments/shop/promote")

    refused = client.post("/api/environments/shop/destroy")

    assert refused.status_code == 409
    assert refused.json()["error"] == "confirmation_required"
    assert [item["type"] for item in refused.json()["data_loss"]] == ["aws:ec2/instance:Instance"]
    assert client.get("/api/environments/shop").json()["applied_tier"] == 0
    destroyed = run(client, "/api/environments/shop/destroy", confirm="shop")
    assert destroyed["status"] == "succeeded"
    assert destroyed["destructive"] is True and destroyed["confirmed"] is True


def test_destroy_needs_confirmation_once_data_exists(client: TestClient) -> None:
    create_environment(client, "shop")
    run(client, "/api/environments/shop/tier", target_tier=1)
    refused = client.post("/api/environments/shop/destroy")
    assert refused.status_code == 409
    assert refused.json()["error"] == "confirmation_required"
    assert run(client, "/api/environments/shop/destroy", confirm="shop")["status"] == "succeeded"


def test_multi_step_walk_down_lists_every_step_s_data_loss(client: TestClient) -> None:
    create_environment(client, "shop")
    run(client, "/api/environments/shop/tier", target_tier=4)

    refused = client.post("/api/environments/shop/tier", json={"target_tier": 1})

    names = sorted(item["name"] for item in refused.json()["data_loss"])
    assert names == ["shop-edge-static", "shop-sessions-cache", "shop-sessions-table"]


def test_preview_reports_the_data_a_step_would_delete(client: TestClient) -> None:
    create_environment(client, "shop")
    run(client, "/api/environments/shop/tier", target_tier=4)

    preview = run(client, "/api/environments/shop/preview", target_tier=3)

    assert preview["destructive"] is True
    assert sorted(item["name"] for item in preview["data_loss"]) == [
        "shop-sessions-cache",
        "shop-sessions-table",
    ]
    assert client.get("/api/environments/shop").json()["applied_tier"] == 4


def test_protected_environment_refuses_destructive_steps_until_protection_is_lifted(
    client: TestClient,
) -> None:
    create_environment(client, "shop", protected=True)
    run(client, "/api/environments/shop/tier", target_tier=1)
    cluster = _resource(client, "shop-aurora-cluster")
    assert cluster["protected"] is True
    assert cluster["key_inputs"]["deletionProtection"] is True

    refused = client.post("/api/environments/shop/demote", json={"confirm": "shop"})
    assert refused.status_code == 409
    assert refused.json()["error"] == "environment_protected"

    lifted = client.patch("/api/environments/shop", json={"protected": False})
    assert lifted.json()["protected"] is False
    done = run(client, "/api/environments/shop/demote", confirm="shop")

    assert done["status"] == "succeeded"
    events = client.get(f"/api/operations/{done['id']}/events?format=json").json()
    steps = [event["message"] for event in events if event["type"] == "step_started"]
    assert len(steps) == 2 and "lifting protection" in steps[0]
    assert client.get("/api/environments/shop").json()["applied_tier"] == 0


def _resource(client: TestClient, name: str) -> dict[str, Any]:
    resources = client.get("/api/environments/shop/resources").json()
    return next(resource for resource in resources if resource["name"] == name)
