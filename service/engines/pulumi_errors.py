"""Pulumi failures as short, readable causes with a machine-readable code."""

from __future__ import annotations

import re

from pulumi.automation import errors as pulumi_errors

from service.engines.model import EngineError
from service.engines.secrets import redact_text

LOCKED_TEXT = "the stack is currently locked by"
LOCK_HOLDER = re.compile(r"created by (?P<holder>.+?)(?: at |\n|$)")
ERROR_LINE = re.compile(r"^\s*error: (?P<message>.+)$", re.MULTILINE)
CANCELED_TEXT = re.compile(r"(?i)update (was )?cancell?ed|interrupt")


def classify(error: BaseException, *, interrupted: bool = False) -> EngineError:
    """Map an Automation API exception to a code and a sentence; details stay in events."""
    if isinstance(error, FileNotFoundError):
        return EngineError("pulumi_cli_missing", "The Pulumi CLI could not be started.")
    if not isinstance(error, pulumi_errors.CommandError):
        return EngineError(
            "engine_failed", f"{type(error).__name__}: {redact_text(str(error))[:300]}"
        )
    text = str(error)
    # Both forms: the SDK's ConcurrentUpdateError, and a plain CommandError whose message says
    # the stack is locked (pulumi/pulumi#11108).
    if isinstance(error, pulumi_errors.ConcurrentUpdateError) or LOCKED_TEXT in text:
        holder = LOCK_HOLDER.search(text)
        who = holder.group("holder").strip() if holder else "another update"
        return EngineError(
            "stack_locked",
            f"The stack is locked by {who}. Another update is running, or one died and left "
            "its lock; Stepladder clears a lock only when its holder is gone.",
        )
    if interrupted and CANCELED_TEXT.search(text):
        return EngineError("cancelled", "Cancelled on request; Pulumi stopped the update.")
    if isinstance(error, pulumi_errors.InlineSourceRuntimeError | pulumi_errors.RuntimeError):
        return EngineError("program_error", f"The program failed: {_first_error(text)}")
    if isinstance(error, pulumi_errors.StackNotFoundError):
        return EngineError("stack_not_found", "The Pulumi stack does not exist in the backend.")
    return EngineError("pulumi_failed", f"Pulumi failed: {_first_error(text)}")


def _first_error(text: str) -> str:
    found = ERROR_LINE.search(text)
    message = (
        found.group("message")
        if found
        else text.strip().splitlines()[-1]
        if text.strip()
        else "no output"
    )
    return redact_text(message.strip())[:400]
