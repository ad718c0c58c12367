"""A pretend AWS for the simulator: Pulumi's mock monitor, recording what the program declares.

Ids and computed outputs come from the shared simulated AWS (`simulated_aws.py`), stable (kept
from the stored state) and plainly marked: every id starts with `sim-` and every ARN names
account 000000000000.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pulumi
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs, Mocks
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

from service.engines.model import ResourceState
from service.engines.simulated_aws import computed_outputs, look_up, simulated_id


class SimulatedCloud(Mocks):
    """Answers the program's look-ups (zones, AMI) the way AWS would, from nothing real."""

    def __init__(self, region: str) -> None:
        self.region = region

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        # Unused: RecordingMonitor registers resources itself, because it needs the URN.
        raise NotImplementedError

    def call(self, args: MockCallArgs) -> dict[str, Any]:  # type: ignore[override] # a dict is allowed
        return look_up(args.token, dict(args.args), self.region) or {}


class RecordingMonitor(MockMonitor):
    """A mock monitor that records every registration with its options (protect, ignoreChanges).

    Pulumi's own MockMonitor hands only type, name and inputs to the mocks; the simulator also
    needs the URN (to keep ids stable) and the resource options (to diff like the engine does).
    """

    def __init__(self, cloud: SimulatedCloud, previous: list[ResourceState]) -> None:
        super().__init__(cloud)
        self.region = cloud.region
        self.previous = {resource.urn: resource for resource in previous}
        self.recorded: dict[str, ResourceState] = {}
        self.options: dict[str, dict[str, list[str]]] = {}

    def RegisterResource(self, request: Any) -> Any:
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == "pulumi:pulumi:Stack":
            return resource_pb2.RegisterResourceResponse(urn=urn)
        _ensure_event_loop()  # type: ignore[no-untyped-call]  # pulumi leaves it unannotated
        raw_inputs = rpc.deserialize_properties(request.object)
        inputs = _plain(raw_inputs)
        custom = bool(request.custom)
        previous = self.previous.get(urn)
        resource_id = (previous.id if previous else None) or simulated_id(request.type, urn)
        outputs = (
            computed_outputs(
                request.type, request.name, resource_id, self._region(request.provider), inputs
            )
            if custom
            else {}
        )
        # Handed back to the program as it gave them (assets stay assets), plus outputs.
        state = {**raw_inputs, **outputs}
        self.recorded[urn] = ResourceState(
            urn=urn,
            type=request.type,
            name=request.name,
            parent=request.parent or None,
            custom=custom,
            id=resource_id if custom else None,
            inputs=inputs,
            outputs=outputs,
            protect=bool(request.protect),
        )
        self.options[urn] = {
            "ignore_changes": list(request.ignoreChanges),
            "replace_on_changes": list(request.replaceOnChanges),
        }
        self.resources[urn] = MockMonitor.ResourceRegistration(urn, resource_id, state)
        properties = _sync_await(rpc.serialize_properties(state, {}))
        return resource_pb2.RegisterResourceResponse(
            urn=urn, id=resource_id if custom else "", object=properties
        )

    def _region(self, provider_reference: str) -> str:
        """The region of the resource's explicit provider (`urn::id`), else the stack's."""
        provider = self.recorded.get(provider_reference.rsplit("::", 1)[0])
        region = provider.inputs.get("region") if provider else None
        return str(region or self.region)


def _plain(value: Any) -> Any:
    """Inputs as JSON-able data (Pulumi hands over some values as its own types)."""
    return json.loads(json.dumps(value, default=_describe_pulumi_value))


def _describe_pulumi_value(value: Any) -> Any:
    """Assets and archives by content, so an unchanged Lambda's code diffs as unchanged."""
    if isinstance(value, pulumi.StringAsset):
        return {"asset": "string", "sha256": hashlib.sha256(value.text.encode()).hexdigest()}
    if isinstance(value, pulumi.FileAsset | pulumi.FileArchive):
        return {"file": str(value.path)}
    if isinstance(value, pulumi.RemoteAsset | pulumi.RemoteArchive):
        return {"uri": value.uri}
    if isinstance(value, pulumi.AssetArchive):
        return {"archive": value.assets}
    return {"value": type(value).__name__}
