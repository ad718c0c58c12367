"""The pulumi engine's data-safety check fails closed: a plan it cannot trust changes nothing.

The stack here stands in for the Automation API's (no CLI needed): its preview feeds the
engine the events and summary given, and records whether an update was started.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto
from pulumi.automation.events import EngineEvent

from programs import EnvironmentSpec
from service.engines.model import EngineError, StepRequest
from service.engines.protocol import PulumiOptions
from service.engines.pulumi_engine import PulumiEngine

CLUSTER = (
    "urn:pulumi:shop::stepladder::stepladder:data:AuroraDatabase$aws:rds/cluster:Cluster"
    "::shop-aurora-cluster"
)


def _pre(op: str) -> dict[str, Any]:
    metadata = {"op": op, "urn": CLUSTER, "type": "aws:rds/cluster:Cluster", "provider": ""}
    return {"sequence": 1, "timestamp": 1, "resourcePreEvent": {"metadata": metadata}}


class PlannedStack:
    name = "shop"

    def __init__(self, events: list[dict[str, Any]], summary: dict[str, int]) -> None:
        self.events = events
        self.summary = summary
        self.updated = False

    def export_stack(self) -> auto.Deployment:
        return auto.Deployment(version=3, deployment={"resources": []})

    def preview(self, on_event: Any, **_: Any) -> auto.PreviewResult:
        for data in self.events:
            on_event(EngineEvent.from_json(data))
        return auto.PreviewResult(stdout="", stderr="", change_summary=self.summary)  # type: ignore[arg-type]

    def up(self, **_: Any) -> None:
        self.updated = True


def _run_up(tmp_path: Path, stack: PlannedStack) -> EngineError:
    engine = PulumiEngine(PulumiOptions(f"file://{tmp_path}/state", None, "secret"))
    engine._stack = lambda spec: stack  # type: ignore[method-assign,assignment,return-value]
    step = StepRequest(
        action="up", spec=EnvironmentSpec(name="shop", tier=2, region="eu-west-1"), to_tier=2
    )
    with pytest.raises(EngineError) as stopped:
        engine.run_step(step, [], lambda event: None)
    return stopped.value


def test_an_event_that_cannot_be_read_stops_the_step(tmp_path: Path) -> None:
    # The cluster's step cannot be read; the summary still names a replace.
    broken = {"sequence": 1, "timestamp": 1, "resourcePreEvent": {"metadata": {"op": "update"}}}
    stack = PlannedStack([broken], {"replace": 1})

    error = _run_up(tmp_path, stack)

    assert error.code == "plan_unverified"
    assert not stack.updated


def test_a_plan_whose_events_miss_a_replace_the_summary_counts_stops(tmp_path: Path) -> None:
    stack = PlannedStack([_pre("update")], {"replace": 1})

    error = _run_up(tmp_path, stack)

    assert error.code == "plan_unverified"
    assert "1 replace" in error.message
    assert not stack.updated


def test_a_trusted_plan_with_an_unconfirmed_replace_stops_on_data_loss(tmp_path: Path) -> None:
    stack = PlannedStack([_pre("create-replacement"), _pre("replace"), _pre("delete-replaced")],
                         {"replace": 1})  # fmt: skip

    error = _run_up(tmp_path, stack)

    assert error.code == "unconfirmed_data_loss"
    assert not stack.updated
