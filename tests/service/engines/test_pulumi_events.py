"""Pulumi engine events, from recorded JSON, as the project's event stream."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pulumi.automation.events import EngineEvent

from service.engines.pulumi_events import translate

RECORDED = json.loads((Path(__file__).parent / "recorded_events.json").read_text())


def _translated(preview: bool = False) -> list[dict[str, Any]]:
    events = [translate(EngineEvent.from_json(data), preview=preview) for data in RECORDED]
    return [event for event in events if event is not None]


def test_resource_steps_become_pre_and_outputs_events() -> None:
    events = _translated()

    created = [e for e in events if e.get("resource_name") == "shop-vpc"]
    assert [e["type"] for e in created] == ["resource_pre", "resource_outputs"]
    assert created[0]["message"] == "creating aws:ec2/vpc:Vpc shop-vpc"
    assert created[1]["message"] == "created aws:ec2/vpc:Vpc shop-vpc"
    assert created[0]["op"] == "create" and created[0]["stateful"] is False


def test_a_replaced_cluster_is_flagged_stateful_and_names_keys_not_values() -> None:
    replaced = next(e for e in _translated() if e.get("resource_name") == "shop-aurora-cluster")

    assert replaced["op"] == "replace"
    assert replaced["stateful"] is True
    assert replaced["changed_inputs"] == ["engine", "masterPassword"]
    assert "hunter2" not in json.dumps(replaced)


def test_preview_events_say_would() -> None:
    pre = next(e for e in _translated(preview=True) if e.get("resource_name") == "shop-vpc")
    assert pre["message"] == "would create aws:ec2/vpc:Vpc shop-vpc"


def test_failures_diagnostics_and_summary() -> None:
    events = _translated()

    failed = next(e for e in events if e["type"] == "resource_failed")
    assert failed["message"] == "failed to create aws:ec2/instance:Instance shop-web-0"
    diagnostics = [e for e in events if e["type"] == "diagnostic"]
    assert diagnostics[0]["severity"] == "error"
    assert "UnauthorizedOperation" in diagnostics[0]["message"]
    summary = next(e for e in events if e["type"] == "summary")
    assert summary["changes"] == {"create": 12, "update": 1, "delete": 2, "replace": 1, "same": 3}
    assert summary["message"] == "12 create, 1 update, 2 delete, 1 replace, 3 same"


def test_ephemeral_same_and_prelude_events_are_dropped() -> None:
    events = _translated()

    assert all(e.get("op") != "same" for e in events)
    assert "refreshing..." not in [e["message"] for e in events]
    assert len(events) == 6  # vpc pre + outputs, cluster pre, error, failed, summary


def test_credentials_in_diagnostics_are_redacted() -> None:
    text = json.dumps(_translated())

    assert "abcdEFGH1234" not in text
    assert "AKIAABCDEFGHIJKLMNOP" not in text
    assert "[secret]" in text
