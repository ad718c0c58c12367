"""The wire between the worker and an operation's child: every message is a model, and each
side refuses what does not fit it instead of acting on a guess."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from programs import EnvironmentSpec
from service.engines.model import OutOfBandChange, ResourceChange, ResourceState, StepRequest
from service.engines.protocol import (
    CHILD_MESSAGE,
    OperationRequest,
    PulumiOptions,
    SimulatorOptions,
    StepDone,
    encode,
)
from tests.service.engines.child_runs import failed_child

SPEC = EnvironmentSpec(
    name="shop", tier=2, region="eu-west-1", federated_databases=("orders", "billing")
)
CLUSTER = ResourceState(
    urn="urn:pulumi:shop::stepladder::aws:rds/cluster:Cluster::shop-aurora",
    type="aws:rds/cluster:Cluster",
    name="shop-aurora",
    id="sim-cluster-1",
    inputs={"engine": "aurora-mysql"},
    protect=True,
)


def test_a_request_crosses_the_wire_unchanged() -> None:
    request = OperationRequest(
        options=SimulatorOptions(
            seconds_per_resource=0.5,
            out_of_band=[OutOfBandChange(urn=CLUSTER.urn, properties={"engine": "postgres"})],
        ),
        steps=[
            StepRequest(action="up", spec=SPEC, to_tier=2, lifts_protection=True),
            StepRequest(
                action="destroy", spec=SPEC, to_tier=None, allowed_data_loss=frozenset({"u"})
            ),
        ],
        state=[CLUSTER],
    )

    assert OperationRequest.model_validate_json(request.model_dump_json()) == request


def test_the_pulumi_options_keep_their_secrets_out_of_repr_but_on_the_wire() -> None:
    options = PulumiOptions("postgres://state", None, "hunter2", backend_password="pa55")
    request = OperationRequest(options=options, steps=[])

    assert "hunter2" not in repr(request) and "pa55" not in repr(request)
    assert OperationRequest.model_validate_json(request.model_dump_json()).options == options


def test_a_completed_step_is_read_back_as_the_model_the_child_sent() -> None:
    deleted = ResourceChange(urn=CLUSTER.urn, type=CLUSTER.type, name=CLUSTER.name, op="delete")
    sent = StepDone(action="up", tier=1, changes={"delete": 1}, plan=[deleted], resources=[CLUSTER])

    read = CHILD_MESSAGE.validate_json(encode(sent))

    assert read == sent
    assert isinstance(read, StepDone) and read.plan[0].deletes_data


def test_the_worker_refuses_a_message_that_does_not_fit() -> None:
    with pytest.raises(ValidationError):
        CHILD_MESSAGE.validate_json('{"kind": "step_done", "action": "up"}')
    with pytest.raises(ValidationError):
        CHILD_MESSAGE.validate_json('{"result": {"changes": {}}}')  # the old untyped shape


def test_the_child_refuses_a_request_for_an_engine_it_does_not_know() -> None:
    request = '{"options": {"engine": "terraform"}, "steps": []}'

    failure, logged = failed_child(["-m", "service.engines.child"], request)

    assert failure.code == "internal_error"
    assert failure.reference is not None and failure.reference in logged
    assert "terraform" in logged  # the cause is in the log, under the reference
