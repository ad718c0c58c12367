"""Outgoing webhooks: signed, delivered through the queue with retries, logged, audited."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from service.app import create_app
from service.clock import Clock
from service.jobs.queue import enqueue_operation
from service.schedules.firing import fire_due_schedules
from tests.conftest import make_settings
from tests.helpers import ADMIN_HEADERS, create_environment, run
from tests.service.notifications.receiver import Receiver, webhook_receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as running:
        yield running


@pytest.fixture
def client(
    tmp_path: Path, database_url: str, db_engine: Engine, clock: Clock
) -> Iterator[TestClient]:
    """The service with its worker, retrying failed deliveries at once, at most 3 times."""
    settings = make_settings(
        tmp_path, database_url, webhook_retry_seconds=0, webhook_max_attempts=3
    )
    app = create_app(settings, database_url, db_engine=db_engine, clock=clock)
    with TestClient(app, headers=ADMIN_HEADERS) as test_client:
        yield test_client


def subscribe(client: TestClient, url: str, *events: str, **fields: Any) -> dict[str, Any]:
    response = client.post(
        "/api/webhooks", json={"name": "ops-chat", "url": url, "events": list(events), **fields}
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def deliveries(client: TestClient, settled: int, timeout: float = 30.0) -> list[dict[str, Any]]:
    """The delivery log once `settled` deliveries are delivered or failed for good."""
    deadline = time.monotonic() + timeout
    while True:
        log: list[dict[str, Any]] = client.get("/api/webhooks/ops-chat/deliveries").json()
        if sum(entry["status"] != "pending" for entry in log) >= settled:
            return log
        if time.monotonic() > deadline:
            raise AssertionError(f"deliveries still pending: {log}")
        time.sleep(0.1)


def expected_signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "v1=" + digest.hexdigest()


def test_a_finished_operation_is_posted_signed_and_logged(
    client: TestClient, receiver: Receiver, db_engine: Engine
) -> None:
    hook = subscribe(client, receiver.url, "operation.succeeded", "operation.failed")
    create_environment(client, "shop")

    operation = run(client, "/api/environments/shop/promote")

    [request] = receiver.wait_for(1)
    headers = request.headers
    assert headers["x-stepladder-event"] == "operation.succeeded"
    assert headers["x-stepladder-signature"] == expected_signature(
        hook["secret"], headers["x-stepladder-timestamp"], request.body
    )
    assert abs(int(headers["x-stepladder-timestamp"]) - time.time()) < 300
    payload = json.loads(request.body)
    assert payload["event"] == "operation.succeeded"
    data = payload["data"]
    assert (data["operation_id"], data["environment"], data["kind"]) == (
        operation["id"],
        "shop",
        "promote",
    )
    assert (data["from_tier"], data["to_tier"], data["status"]) == (None, 0, "succeeded")
    # Nothing simulated passes for real: the receiver is told.
    assert (data["engine"], data["simulated"]) == ("simulator", True)
    [logged] = deliveries(client, 1)
    assert (logged["status"], logged["attempts"], logged["last_status_code"]) == (
        "delivered",
        1,
        200,
    )
    assert headers["x-stepladder-delivery"] == str(logged["id"])
    # The signing secret is never stored in the clear, nor shown again.
    with db_engine.connect() as connection:
        stored = connection.execute(text("SELECT sealed_secret FROM webhooks")).scalar_one()
    assert hook["secret"] not in stored
    assert "secret" not in client.get("/api/webhooks").json()[0]


def test_a_failing_receiver_is_retried_then_given_up_on(
    client: TestClient, receiver: Receiver
) -> None:
    subscribe(client, receiver.url, "operation.succeeded")
    create_environment(client, "shop")
    receiver.answers = [500, 503]  # then 200
    run(client, "/api/environments/shop/promote")

    [logged] = deliveries(client, 1)

    assert (logged["status"], logged["attempts"], logged["last_status_code"]) == (
        "delivered",
        3,
        200,
    )
    ids = {request.headers["x-stepladder-delivery"] for request in receiver.wait_for(3)}
    assert ids == {str(logged["id"])}  # the same delivery each time: receivers can dedupe

    receiver.answers = [500, 500, 500, 500]
    run(client, "/api/environments/shop/promote")
    newest = deliveries(client, 2)[0]
    assert (newest["status"], newest["attempts"], newest["last_status_code"]) == (
        "failed",
        3,
        500,
    )
    assert newest["last_error"] == "the receiver answered 500"


def test_an_unreachable_receiver_is_recorded_not_raised(client: TestClient) -> None:
    subscribe(client, "http://127.0.0.1:9/nothing-listens", "operation.succeeded")
    create_environment(client, "shop")
    run(client, "/api/environments/shop/promote")

    [logged] = deliveries(client, 1)

    assert (logged["status"], logged["attempts"], logged["last_status_code"]) == ("failed", 3, None)
    assert logged["last_error"].startswith("ConnectError")


def test_slack_format_says_what_happened_in_a_sentence(
    client: TestClient, receiver: Receiver
) -> None:
    subscribe(client, receiver.url, "operation.succeeded", format="slack")
    create_environment(client, "shop")
    operation = run(client, "/api/environments/shop/promote")

    [request] = receiver.wait_for(1)

    assert json.loads(request.body) == {
        "text": f"[simulator] promote of shop (not deployed -> 0), operation "
        f"{operation['id']}: succeeded."
    }


def test_an_operator_request_on_a_protected_environment_asks_for_approval(
    client: TestClient, receiver: Receiver
) -> None:
    subscribe(client, receiver.url, "approval.needed")
    create_environment(client, "prod", protected=True)
    token = client.post("/api/tokens", json={"name": "olga", "role": "operator"}).json()["token"]

    asked = client.post(
        "/api/environments/prod/promote", headers={"Authorization": f"Bearer {token}"}
    ).json()

    [request] = receiver.wait_for(1)
    data = json.loads(request.body)["data"]
    assert (data["operation_id"], data["requested_by"]) == (asked["id"], "olga")
    assert data["approval_expires_at"] is not None


def test_a_missed_schedule_firing_is_announced(
    client: TestClient, receiver: Receiver, database_url: str, db_engine: Engine, clock: Clock
) -> None:
    subscribe(client, receiver.url, "schedule.missed", "schedule.refused")
    create_environment(client, "shop")
    run(client, "/api/environments/shop/promote")
    response = client.post(
        "/api/environments/shop/schedules",
        json={
            "name": "nights",
            "cron": "0 19 * * *",
            "action": "set_capacity",
            "overrides": {"web_min": 1},
            "catch_up_minutes": 30,
        },
    )
    due = response.json()["next_run_at"]
    late = datetime.fromisoformat(due) + timedelta(hours=2)  # the service was down
    clock.set(late)
    fire_due_schedules(db_engine, enqueue_operation, "simulator", late)

    [request] = receiver.wait_for(1)
    payload = json.loads(request.body)
    assert payload["event"] == "schedule.missed"
    assert payload["data"]["schedule"] == "nights"
    assert payload["data"]["environment"] == "shop"
    assert "beyond the catch-up window" in payload["data"]["reason"]


def test_webhooks_are_for_admins_validated_and_audited(
    client: TestClient, receiver: Receiver
) -> None:
    bad = client.post(
        "/api/webhooks",
        json={"name": "x", "url": "ftp://example.com", "events": ["operation.nope"]},
    )
    assert bad.status_code == 422
    fields = {entry["field"] for entry in bad.json()["fields"]}
    assert {"url", "events.0"} <= fields, bad.json()
    token = client.post("/api/tokens", json={"name": "olga", "role": "operator"}).json()["token"]
    operator = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/webhooks", headers=operator).status_code == 403

    subscribe(client, receiver.url, "operation.failed")
    assert (
        client.post(
            "/api/webhooks",
            json={"name": "ops-chat", "url": receiver.url, "events": ["operation.failed"]},
        ).status_code
        == 409
    )
    assert client.delete("/api/webhooks/ops-chat").status_code == 200
    assert client.delete("/api/webhooks/ops-chat").status_code == 404

    audit = client.get("/api/audit", params={"limit": 20}).json()
    records = sorted(
        (row["action"], row["outcome"]) for row in audit if row["action"].startswith("webhook.")
    )
    assert records == [
        ("webhook.create", "failed"),  # the duplicate name
        ("webhook.create", "ok"),
        ("webhook.delete", "failed"),  # the second delete: no such webhook
        ("webhook.delete", "ok"),
    ]
