"""The Pulumi engine for real: Automation API, file backend, moto standing in for AWS.

Skipped, with the reason, where no `pulumi` CLI is on PATH (see conftest.py).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import time
from collections.abc import Callable
from pathlib import Path

from tests.e2e.conftest import Server
from tests.helpers import wait_for_operation


def _pulumi_server(start_server: Callable[..., Server], endpoint: str, **settings: str) -> Server:
    # moto accepts any credentials; the AWS provider insists on having some.
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    return start_server(
        engine="pulumi",
        aws_endpoint_url=endpoint,
        pulumi_config_passphrase="integration-tests",
        cancel_grace_seconds="60",
        heartbeat_seconds="1",
        stalled_worker_seconds="5",
        **settings,
    )


def _run(server: Server, path: str, **body: object) -> dict:
    response = server.client.post(path, json=body or None)
    assert response.status_code == 202, response.text
    return wait_for_operation(server.client, response.json()["id"], timeout=900)


def test_preview_up_refresh_destroy_of_tiers_0_to_2(
    start_server: Callable[..., Server], moto_endpoint: str
) -> None:
    server = _pulumi_server(start_server, moto_endpoint)
    server.client.post("/api/environments", json={"name": "shop", "region": "us-east-1"})

    preview = _run(server, "/api/environments/shop/preview", target_tier=0)
    assert preview["status"] == "succeeded" and preview["engine"] == "pulumi"
    assert preview["changes"]["create"] > 0
    for tier in range(3):
        done = _run(server, "/api/environments/shop/promote")
        assert done["status"] == "succeeded", done
        assert done["to_tier"] == tier
    resources = server.client.get("/api/environments/shop/resources").json()
    assert any(r["type"] == "aws:lb/loadBalancer:LoadBalancer" for r in resources)
    assert all(not r["cloud_id"] or not r["cloud_id"].startswith("sim-") for r in resources)
    assert _run(server, "/api/environments/shop/refresh")["status"] == "succeeded"
    assert _run(server, "/api/environments/shop/destroy", confirm="shop")["status"] == "succeeded"
    assert server.client.get("/api/environments/shop/resources").json() == []


def test_a_lock_held_by_a_live_process_elsewhere_fails_with_stack_locked(
    start_server: Callable[..., Server], moto_endpoint: str, tmp_path: Path
) -> None:
    server = _pulumi_server(start_server, moto_endpoint)
    server.client.post("/api/environments", json={"name": "shop", "region": "us-east-1"})
    assert _run(server, "/api/environments/shop/promote")["status"] == "succeeded"
    locks = (
        tmp_path
        / "data"
        / "pulumi-state"
        / ".pulumi"
        / "locks"
        / "organization"
        / "stepladder"
        / "shop"
    )
    locks.mkdir(parents=True, exist_ok=True)
    (locks / "held-elsewhere.json").write_text(
        json.dumps({"pid": 1, "username": "ops", "hostname": "not-" + socket.gethostname(),
                    "timestamp": "2026-11-26T10:00:00Z"})
    )  # fmt: skip

    failed = _run(server, "/api/environments/shop/promote")

    assert failed["status"] == "failed"
    assert failed["error_code"] == "stack_locked"
    assert "ops@not-" in failed["error"]
    assert (locks / "held-elsewhere.json").exists()  # a live holder's lock is never cleared


def test_kill_9_mid_update_then_the_next_operation_recovers(
    start_server: Callable[..., Server], moto_endpoint: str
) -> None:
    server = _pulumi_server(start_server, moto_endpoint)
    server.client.post("/api/environments", json={"name": "shop", "region": "us-east-1"})
    operation = server.client.post("/api/environments/shop/tier", json={"target_tier": 2}).json()
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        events = server.client.get(f"/api/operations/{operation['id']}/events?format=json").json()
        if any(e["type"] == "resource_pre" for e in events):
            break
        time.sleep(0.2)

    server.stop(signal.SIGKILL)
    recovered = _pulumi_server(start_server, moto_endpoint)
    assert (
        wait_for_operation(recovered.client, operation["id"], timeout=120)["error_code"]
        == "interrupted"
    )

    again = _run(recovered, "/api/environments/shop/tier", target_tier=2)

    assert again["status"] == "succeeded", again
    events = recovered.client.get(f"/api/operations/{again['id']}/events?format=json").json()
    assert any(e["type"] == "recovery" for e in events)
