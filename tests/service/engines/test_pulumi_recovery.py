"""Recovery before an environment's first step, on a DIY backend folder.

The stack stands in for the Automation API's: it exports the deployment given and records
what recovery asked of it (an import of a repaired deployment, a refresh).
"""

from __future__ import annotations

import json
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from service.engines.model import EngineError
from service.engines.pulumi_locks import lock_store
from service.engines.pulumi_recovery import recover_stack

WEB = "urn:pulumi:shop::stepladder::stepladder:web:WebServers$aws:ec2/instance:Instance::shop-web-1"
ALB = "urn:pulumi:shop::stepladder::stepladder:lb:LoadBalancer$aws:lb/loadBalancer:LoadBalancer::lb"


def _pending(kind: str, urn: str) -> dict[str, Any]:
    return {"resource": {"urn": urn, "type": urn.split("::")[2].split("$")[-1]}, "type": kind}


class CrashedStack:
    name = "shop"

    def __init__(self, pending: list[dict[str, Any]]) -> None:
        self.deployment = {"resources": [], "pending_operations": pending}
        self.imported: list[Mapping[str, Any]] = []
        self.refreshed = 0

    def import_deployment(self, deployment: auto.Deployment) -> None:
        assert deployment.deployment is not None
        self.imported.append(deployment.deployment)

    def export_stack(self) -> auto.Deployment:
        return auto.Deployment(version=3, deployment=self.deployment)


def _recover(
    stack: CrashedStack, backend: str, in_aws: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """`in_aws`: URN -> id of the pending creates AWS's tagging API finds."""
    events: list[dict[str, Any]] = []

    def refresh() -> None:
        stack.refreshed += 1

    recover_stack(
        stack,  # type: ignore[arg-type]
        locks=lock_store(backend),
        project="stepladder",
        emit=events.append,
        replace_deployment=stack.import_deployment,
        refresh=refresh,
        find_pending_creates=lambda creates, _deployment: {
            urn: resource_id
            for urn, resource_id in (in_aws or {}).items()
            if urn in [item["resource"]["urn"] for item in creates]
        },
    )
    return events


def _lock(backend: Path, pid: int, hostname: str) -> Path:
    folder = backend / ".pulumi" / "locks" / "organization" / "stepladder" / "shop"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{pid}.json"
    lock = {
        "pid": pid,
        "username": "ops",
        "hostname": hostname,
        "timestamp": "2026-11-26T10:00:00Z",
    }
    path.write_text(json.dumps(lock))
    return path


def test_pending_creates_stop_with_needs_attention_naming_them(tmp_path: Path) -> None:
    stack = CrashedStack([_pending("creating", WEB), _pending("updating", ALB)])

    with pytest.raises(EngineError) as stopped:
        _recover(stack, f"file://{tmp_path}")

    assert stopped.value.code == "needs_attention"
    assert WEB in stopped.value.message and ALB not in stopped.value.message
    assert "stepladder:environment" in stopped.value.message
    assert "--import-pending-creates" in stopped.value.message
    assert stack.imported == [] and stack.refreshed == 0  # the state is left as it was


def test_pending_creates_found_in_aws_are_adopted_with_their_id(tmp_path: Path) -> None:
    stack = CrashedStack([_pending("creating", WEB), _pending("updating", ALB)])

    events = _recover(stack, f"file://{tmp_path}", in_aws={WEB: "i-0123"})

    [repaired] = stack.imported
    assert repaired.get("pending_operations") is None
    assert [(r["urn"], r["id"]) for r in repaired["resources"]] == [(WEB, "i-0123")]
    assert stack.refreshed == 1  # reads the adopted resource back from AWS
    assert any(e.get("urn") == WEB and "i-0123" in e["message"] for e in events)


def test_only_the_pending_creates_not_found_stop_with_needs_attention(tmp_path: Path) -> None:
    other = WEB.replace("shop-web-1", "shop-web-2")
    stack = CrashedStack([_pending("creating", WEB), _pending("creating", other)])

    with pytest.raises(EngineError) as stopped:
        _recover(stack, f"file://{tmp_path}", in_aws={WEB: "i-0123"})

    assert stopped.value.code == "needs_attention"
    assert other in stopped.value.message and WEB not in stopped.value.message
    [repaired] = stack.imported
    assert [(r["urn"], r["id"]) for r in repaired["resources"]] == [(WEB, "i-0123")]
    assert [p["resource"]["urn"] for p in repaired["pending_operations"]] == [other]


def test_a_dead_holders_lock_is_cleared_and_pending_updates_dropped(tmp_path: Path) -> None:
    stale = _lock(tmp_path, 999_999_999, socket.gethostname())
    stack = CrashedStack([_pending("updating", ALB)])

    events = _recover(stack, f"file://{tmp_path}")

    assert not stale.exists()
    assert [item.get("pending_operations") for item in stack.imported] == [None]
    assert stack.refreshed == 1
    assert any(event.get("urn") == ALB for event in events)


def test_nothing_is_repaired_while_a_live_process_may_hold_the_lock(tmp_path: Path) -> None:
    held = _lock(tmp_path, 4242, "another-machine")
    stack = CrashedStack([_pending("updating", ALB), _pending("creating", WEB)])

    events = _recover(stack, f"file://{tmp_path}")

    assert held.exists()
    assert stack.imported == [] and stack.refreshed == 0
    assert "ops@another-machine (pid 4242)" in events[-1]["message"]


def test_a_backend_whose_locks_cannot_be_seen_is_not_repaired_blindly() -> None:
    stack = CrashedStack([_pending("deleting", ALB)])

    with pytest.raises(EngineError) as stopped:
        _recover(stack, "s3://state-bucket/stepladder")

    assert stopped.value.code == "needs_attention"
    assert ALB in stopped.value.message
    assert stack.imported == []
