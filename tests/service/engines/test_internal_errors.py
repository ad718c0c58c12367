"""Failures the user can act on keep their message; any other failure in an engine process
(a bug of ours) reaches the user as a reference only, and the log has its traceback under the
same reference, with the engine's secrets masked in both."""

from __future__ import annotations

import re
import subprocess

import pytest

from programs import EnvironmentSpec
from service.engines import declare, simulator
from service.engines.model import EngineError, StepRequest
from service.engines.protocol import (
    OperationRequest,
    PulumiOptions,
)
from tests.service.engines.child_runs import failed_child

SPEC = EnvironmentSpec(name="shop", tier=0, region="eu-west-1")
PASSPHRASE = "correct-horse-battery-staple"
REFERENCE = re.compile(r"reference ([0-9a-f]{12})")

# The child as the worker starts it, with a bug planted in the engine's step: the exception's
# text carries the passphrase, as a careless error message might.
BUGGY_CHILD = """
import sys
from service.engines import child
from service.engines.simulator import SimulatorEngine

class Buggy(SimulatorEngine):
    def run_step(self, step, state, emit):
        raise KeyError("no such output; passphrase was " + sys.argv[1])

child.make_engine = lambda options: Buggy()
sys.exit(child.entry())
"""


def test_a_definition_the_programs_cannot_build_is_the_users_program_error() -> None:
    spec = EnvironmentSpec(name="shop", tier=7, region="eu-west-1")

    with pytest.raises(EngineError) as raised:
        simulator.run_program(spec, [])

    assert raised.value.code == "program_error"
    assert "tier 7 (multi-region) needs secondary_region" in raised.value.message


def test_a_bug_under_the_simulator_is_not_reported_as_the_users_program(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    outputs: dict[str, object] = {}

    def broken(_spec: EnvironmentSpec) -> dict[str, object]:
        return {"endpoint": outputs["missing"]}

    monkeypatch.setattr(simulator, "build", broken)

    with pytest.raises(KeyError):
        simulator.run_program(SPEC, [])


def test_a_bug_in_the_engine_process_reaches_the_worker_as_a_reference_and_its_log() -> None:
    request = OperationRequest(
        options=PulumiOptions("file:///nowhere", None, PASSPHRASE),
        steps=[StepRequest(action="up", spec=SPEC, to_tier=0)],
    )

    failure, logged = failed_child(["-c", BUGGY_CHILD, PASSPHRASE], request.model_dump_json())

    assert failure.code == "internal_error"
    found = REFERENCE.search(failure.message)
    assert found is not None and found.group(1) == failure.reference
    assert "KeyError" not in failure.message and "no such output" not in failure.message
    # What the worker logs under the reference, and what the process itself logged.
    assert failure.log is not None and "KeyError" in failure.log
    assert f"reference {failure.reference}" in logged and "Traceback" in logged
    assert PASSPHRASE not in failure.model_dump_json() and PASSPHRASE not in logged


def test_a_declaring_process_that_dies_without_answering_is_an_internal_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    died = subprocess.CompletedProcess(
        "service.engines.declare", -9, "", "Traceback ...\nMemoryError: out of memory\n"
    )

    with pytest.raises(EngineError) as raised:
        declare._answer(died)

    assert raised.value.code == "internal_error"
    assert "MemoryError" not in raised.value.message
    found = REFERENCE.search(raised.value.message)
    assert found is not None
    logged = [r.getMessage() for r in caplog.records if found.group(1) in r.getMessage()]
    assert logged and "MemoryError: out of memory" in logged[0]


def test_a_definition_error_while_declaring_keeps_its_message() -> None:
    spec = EnvironmentSpec(name="shop", tier=7, region="eu-west-1")

    with pytest.raises(EngineError) as raised:
        declare.declared_resources([spec])

    assert raised.value.code == "program_error"
    assert "needs secondary_region" in raised.value.message
    assert "Traceback" not in raised.value.message
