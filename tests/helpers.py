"""Small helpers the tests share."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import psutil

FINISHED = {"succeeded", "failed", "cancelled", "rejected"}
# The bootstrap admin token every test service starts with (STEPLADDER_BOOTSTRAP_TOKEN).
ADMIN_TOKEN = "slp_test-admin-token-0123456789abcdefghijklmnopqrstuv"
ADMIN_HEADERS = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def wait_for_operation(client: Any, operation_id: int, timeout: float = 60.0) -> dict[str, Any]:
    """Poll until the operation has finished; fail the test if it does not in `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        operation: dict[str, Any] = client.get(f"/api/operations/{operation_id}").json()
        if operation["status"] in FINISHED:
            return operation
        if time.monotonic() > deadline:
            raise AssertionError(f"operation {operation_id} still {operation['status']}")
        time.sleep(0.1)


def wait_for_event(
    client: httpx.Client,
    operation_id: int,
    matches: Callable[[dict[str, Any]], bool],
    *,
    what: str,
    timeout: float = 30.0,
) -> None:
    """Poll the operation's events until one `matches`; fail the test if none does in `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = client.get(f"/api/operations/{operation_id}/events?format=json")
        events: list[dict[str, Any]] = response.json()
        if any(matches(event) for event in events):
            return
        time.sleep(0.1)
    raise AssertionError(f"no {what} event for operation {operation_id}")


def create_environment(client: Any, name: str = "shop", **fields: Any) -> dict[str, Any]:
    response = client.post(
        "/api/environments",
        json={"name": name, "region": "eu-west-1", **fields},
        headers=ADMIN_HEADERS,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def run(client: Any, path: str, **body: Any) -> dict[str, Any]:
    """Request an operation and wait for it to finish."""
    response = client.post(path, json=body or None)
    assert response.status_code == 202, response.text
    return wait_for_operation(client, response.json()["id"])


def resource_types(environment: dict[str, Any]) -> list[str]:
    return sorted(resource["type"] for resource in environment["resources"])


def engine_processes(root_pid: int) -> list[psutil.Process]:
    """The operation engine processes under `root_pid`: started directly
    (`python -m service.engines.child`) or forked by the fork server (named `engine-child`)."""
    found = []
    for process in psutil.Process(root_pid).children(recursive=True):
        try:
            if process.name() == "engine-child" or "service.engines.child" in process.cmdline():
                found.append(process)
        except psutil.NoSuchProcess:
            continue
    return found
