"""Counting what a Pulumi run changed: once per resource, checked against the engine's summary.

The step sequences are those the Pulumi engine emits (pkg/engine, v3.274): a replacement is
`create-replacement`, `replace`, `delete-replaced` of one URN; its summary counts logical steps
only, one per resource, its own Stack and providers included.
"""

from __future__ import annotations

from typing import Any

import pytest
from pulumi.automation.events import EngineEvent, StepEventMetadata

from service.engines.pulumi_events import ChangeLedger, UnknownStep, translate

STACK = "urn:pulumi:shop::stepladder::pulumi:pulumi:Stack::stepladder-shop"
CLUSTER = (
    "urn:pulumi:shop::stepladder::stepladder:data:AuroraDatabase$aws:rds/cluster:Cluster"
    "::shop-aurora-cluster"
)
VPC = "urn:pulumi:shop::stepladder::stepladder:network:Network$aws:ec2/vpc:Vpc::shop-vpc"
GLOBAL = "urn:pulumi:shop::stepladder::aws:rds/globalCluster:GlobalCluster::shop-global"


def _state(urn: str, **outputs: Any) -> dict[str, Any]:
    return {"type": urn.split("::")[2].split("$")[-1], "urn": urn, "id": "x", "parent": "",
            "provider": "", "outputs": outputs}  # fmt: skip


def _metadata(op: str, urn: str, *, old: dict[str, Any] | None = None,
              new: dict[str, Any] | None = None,
              diffs: list[str] | None = None) -> dict[str, Any]:  # fmt: skip
    data: dict[str, Any] = {"op": op, "urn": urn, "type": urn.split("::")[2].split("$")[-1],
                            "provider": ""}  # fmt: skip
    if old is not None:
        data["old"] = old
    if new is not None:
        data["new"] = new
    if diffs is not None:
        data["diffs"] = diffs
    return data


def _pre(op: str, urn: str, **kwargs: Any) -> EngineEvent:
    return EngineEvent.from_json(
        {"sequence": 1, "timestamp": 1, "resourcePreEvent": {"metadata": _metadata(op, urn, **kwargs)}}
    )  # fmt: skip


def _post(op: str, urn: str, **kwargs: Any) -> EngineEvent:
    return EngineEvent.from_json(
        {"sequence": 1, "timestamp": 1, "resOutputsEvent": {"metadata": _metadata(op, urn, **kwargs)}}
    )  # fmt: skip


def _fed(events: list[EngineEvent]) -> ChangeLedger:
    ledger = ChangeLedger()
    for event in events:
        if event.resource_pre_event is not None:
            ledger.record(event.resource_pre_event.metadata, post=False)
        if event.res_outputs_event is not None:
            ledger.record(event.res_outputs_event.metadata, post=True)
    return ledger


def _counts(ledger: ChangeLedger) -> dict[str, int]:
    counts = dict.fromkeys(("create", "update", "delete", "replace", "same"), 0)
    for change in ledger.changes():
        counts[change.op] += 1
    return counts


REPLACING_UPDATE = [
    _pre("same", STACK), _post("same", STACK, new=_state(STACK)),
    _pre("same", VPC), _post("same", VPC, new=_state(VPC)),
    _pre("create-replacement", CLUSTER, diffs=["engine"]),
    _post("create-replacement", CLUSTER, new=_state(CLUSTER, endpoint="new")),
    _pre("replace", CLUSTER, diffs=["engine"]),
    _post("replace", CLUSTER, new=_state(CLUSTER, endpoint="new")),
    _pre("delete-replaced", CLUSTER),
    _post("delete-replaced", CLUSTER, old=_state(CLUSTER, endpoint="old")),
]  # fmt: skip


def test_a_replacement_counts_once_and_sames_count() -> None:
    ledger = _fed(REPLACING_UPDATE)

    assert _counts(ledger) == {"create": 0, "update": 0, "delete": 0, "replace": 1, "same": 1}
    (cluster,) = [c for c in ledger.changes() if c.name == "shop-aurora-cluster"]
    assert cluster.deletes_data and cluster.changed_inputs == ("engine",)
    # The engine's summary counts the stack too: the ledger agrees with it.
    assert ledger.disagreement({"same": 2, "replace": 1}) is None


def test_the_replaced_resource_survives_in_the_final_state() -> None:
    states = _fed(REPLACING_UPDATE).final_states()

    cluster = next(state for state in states if state.urn == CLUSTER)
    assert cluster.outputs == {"endpoint": "new"}


def test_a_summary_that_disagrees_is_reported() -> None:
    ledger = _fed(REPLACING_UPDATE)

    problem = ledger.disagreement({"same": 2, "replace": 1, "delete": 1})

    assert problem is not None and "1 delete" in problem
    assert ledger.disagreement(None) is not None


@pytest.mark.parametrize(
    ("op", "counted"),
    [("read-replacement", "replace"), ("remove-pending-replace", "replace"),
     ("import-replacement", "replace"), ("import", "create"), ("discard", "delete")],
)  # fmt: skip
def test_rarer_steps_are_counted_not_dropped(op: str, counted: str) -> None:
    ledger = _fed([_pre(op, CLUSTER)])

    assert [change.op for change in ledger.changes()] == [counted]


def test_an_unknown_step_cannot_be_counted() -> None:
    # A newer CLI's step kind that this SDK cannot even parse into an OpType.
    unparsable: Any = "frobnicate"  # not an OpType, on purpose
    newer = StepEventMetadata(op=unparsable, urn=CLUSTER, type="aws:rds/cluster:Cluster",
                              provider="")  # fmt: skip

    with pytest.raises(UnknownStep):
        ChangeLedger().record(newer, post=False)


def test_refresh_counts_what_it_found_not_an_update_per_resource() -> None:
    ledger = _fed([
        _pre("refresh", VPC), _post("refresh", VPC, old=_state(VPC, a=1), new=_state(VPC, a=1)),
        _pre("refresh", CLUSTER),
        _post("refresh", CLUSTER, old=_state(CLUSTER, a=1), new=_state(CLUSTER, a=2)),
        _pre("refresh", GLOBAL), _post("refresh", GLOBAL, old=_state(GLOBAL)),
    ])  # fmt: skip

    assert _counts(ledger) == {"create": 0, "update": 1, "delete": 1, "replace": 0, "same": 1}
    events = [translate(e, preview=False) for e in [_post("refresh", VPC, old=_state(VPC),
              new=_state(VPC)), _pre("refresh", CLUSTER)]]  # fmt: skip
    assert events == [None, None]  # nothing to say for an unchanged resource or a pre event


def test_a_preview_says_each_resource_once() -> None:
    events = [_pre("create", VPC), _post("create", VPC, new=_state(VPC))]

    lines = [translate(event, preview=True) for event in events]

    assert [line["message"] for line in lines if line] == ["would create aws:ec2/vpc:Vpc shop-vpc"]


def test_the_cancel_event_every_run_ends_with_is_a_warning_only_after_an_interrupt() -> None:
    closing = EngineEvent.from_json({"sequence": 9, "timestamp": 1, "cancelEvent": {}})

    assert translate(closing, preview=False) is None
    warning = translate(closing, preview=False, interrupted=True)
    assert warning is not None and warning["severity"] == "warning"


def test_mock_and_engine_urns_of_one_resource_are_one_change() -> None:
    mock_urn = GLOBAL.replace("::aws:rds/", "::pulumi:pulumi:Stack$aws:rds/")
    ledger = _fed([_pre("delete", GLOBAL), _pre("delete", mock_urn)])

    assert [change.urn for change in ledger.changes()] == [GLOBAL]


def test_steps_the_summary_leaves_out_do_not_count_against_it() -> None:
    # pkg/engine/update.go: default providers and remove-pending-replace are internal steps,
    # in the event log but not in the summary.
    default_provider = "urn:pulumi:shop::stepladder::pulumi:providers:aws::default_7_0_0"
    ledger = _fed([_pre("create", default_provider), _pre("create", VPC),
                   _pre("remove-pending-replace", CLUSTER)])  # fmt: skip

    assert ledger.disagreement({"create": 1}) is None
    assert [change.name for change in ledger.changes()] == ["shop-vpc", "shop-aurora-cluster"]


ASG = (
    "urn:pulumi:shop::stepladder::stepladder:autoscaling:AutoScaling$aws:autoscaling/group:Group"
    "::shop-web-asg"
)


def _with_inputs(urn: str, **inputs: Any) -> dict[str, Any]:
    return {**_state(urn), "inputs": inputs}


def test_a_preview_refresh_reports_drift_as_the_cli_does() -> None:
    """`pulumi refresh --preview-only` (v3.274): a `refresh` pre event, then the outcome on the
    outputs event as `same`, `update` or `delete`."""
    old_vpc = _with_inputs(VPC, cidrBlock="10.0.0.0/16")
    old_asg = _with_inputs(ASG, desiredCapacity=2, maxSize=4)
    ledger = _fed([
        _pre("refresh", VPC, old=old_vpc, new=old_vpc),
        _post("same", VPC, old=old_vpc, new=old_vpc),
        _pre("refresh", ASG, old=old_asg, new=old_asg),
        _post("update", ASG, old=old_asg, new=_with_inputs(ASG, desiredCapacity=5, maxSize=4)),
        _pre("refresh", CLUSTER, old=_state(CLUSTER)),
        _post("delete", CLUSTER, old=_state(CLUSTER)),
    ])  # fmt: skip

    drifted = [item.model_dump(mode="json") for item in ledger.drifted()]

    # The ASG's desired capacity moved: autoscaling at work, not drift. The cluster is gone.
    assert [(d["name"], d["op"], d["properties"]) for d in drifted] == [
        ("shop-aurora-cluster", "delete", [])
    ]
    ledger = _fed([
        _pre("refresh", ASG, old=old_asg, new=old_asg),
        _post("update", ASG, old=old_asg, new=_with_inputs(ASG, desiredCapacity=2, maxSize=9)),
    ])  # fmt: skip
    assert [(d.name, d.properties) for d in ledger.drifted()] == [("shop-web-asg", ("maxSize",))]
