"""Automation API failures, classified into codes and short causes."""

from __future__ import annotations

import pytest
from pulumi.automation import errors
from pulumi.automation._cmd import CommandResult

from service.engines.pulumi_errors import classify, log_tail

LOCKED_STDERR = (
    "error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) "
    "to end or delete the lock file with `pulumi cancel`.\n"
    "  file:///data/pulumi-state/.pulumi/locks/organization/stepladder/shop/9a1b.json: "
    "created by ops@build-7 (pid 4242) at 2026-11-26T10:00:00Z\n"
)


def _result(stderr: str = "", stdout: str = "", code: int = 255) -> CommandResult:
    return CommandResult(stdout=stdout, stderr=stderr, code=code)


def test_concurrent_update_error_is_stack_locked_with_its_holder() -> None:
    error = errors.create_command_error(_result(stderr=LOCKED_STDERR))
    assert isinstance(error, errors.ConcurrentUpdateError)

    classified = classify(error)

    assert classified.code == "stack_locked"
    assert "ops@build-7 (pid 4242)" in classified.message


def test_plain_command_error_saying_locked_is_stack_locked_too() -> None:
    # pulumi/pulumi#11108: some CLI versions report the lock through a plain CommandError.
    error = errors.CommandError(_result(stderr=LOCKED_STDERR))

    assert classify(error).code == "stack_locked"


def test_missing_cli() -> None:
    classified = classify(FileNotFoundError(2, "No such file or directory", "pulumi"))
    assert classified.code == "pulumi_cli_missing"


def test_program_error_gives_the_first_error_line() -> None:
    stdout = (
        "Updating (shop):\n"
        "    error: Program failed with an unhandled exception:\n"
        "    Traceback (most recent call last):\n"
        '      File "programs/stack.py", line 1\n'
        "    ValueError: tier 7 (multi-region) needs secondary_region\n"
    )
    error = errors.InlineSourceRuntimeError(_result(stdout=stdout))

    classified = classify(error)

    assert classified.code == "program_error"
    assert classified.message == "The program failed: Program failed with an unhandled exception:"
    assert "Traceback" not in classified.message


def test_other_cli_failure_and_interrupt() -> None:
    failed = errors.CommandError(_result(stderr="error: update canceled\n"))

    assert classify(failed).code == "pulumi_failed"
    assert classify(failed, interrupted=True).code == "cancelled"


def test_secrets_do_not_leak_through_messages() -> None:
    error = errors.CommandError(_result(stderr="error: bad passphrase=topsecret value\n"))
    assert "topsecret" not in classify(error).message


def test_a_silent_failure_still_names_a_cause() -> None:
    error = errors.CommandError(_result())

    classified = classify(error)

    assert classified.code == "pulumi_failed"
    assert "exited with code 255 and printed nothing" in classified.message


def test_the_cause_is_taken_from_stderr_when_stdout_says_nothing() -> None:
    error = errors.CommandError(
        _result(stderr="warning: slow\nerror: could not find backend folder /data/pulumi-state\n")
    )

    assert classify(error).message == (
        "Pulumi failed: could not find backend folder /data/pulumi-state"
    )


def test_a_failure_around_the_cli_is_internal_logged_under_the_reference_it_names(
    caplog: pytest.LogCaptureFixture,
) -> None:
    try:
        raise ValueError("stack name must not contain spaces, passphrase hunter2")
    except ValueError as error:
        classified = classify(error, known_secrets=("hunter2",))

    assert classified.code == "internal_error"
    assert classified.reference is not None
    assert classified.message == (
        f"Something went wrong on our side (reference {classified.reference}); it has been logged."
    )
    logged = [r.getMessage() for r in caplog.records if classified.reference in r.getMessage()]
    assert len(logged) == 1
    assert "Traceback" in logged[0] and "stack name must not contain spaces" in logged[0]
    assert "hunter2" not in logged[0] and "hunter2" not in (classified.log or "")


def test_the_log_tail_keeps_diagnostics_and_drops_property_values() -> None:
    stdout = (
        "Updating (shop):\n"
        " +  aws:rds/cluster:Cluster shop-db create\n"
        '      masterPassword: "hunter2"\n'
        "Diagnostics:\n"
        "  aws:rds/cluster:Cluster (shop-db):\n"
        "    error: creating RDS Cluster: InvalidParameterCombination\n"
        "Outputs:\n"
        '    dbPassword: "hunter2"\n'
        "Resources:\n"
    )
    error = errors.CommandError(_result(stdout=stdout, stderr="error: update failed\n"))

    tail = log_tail(error, ("the-passphrase",))

    assert tail is not None
    assert "InvalidParameterCombination" in tail and "update failed" in tail
    assert "hunter2" not in tail
