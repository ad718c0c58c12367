"""Pulumi failures as short, readable causes with a machine-readable code, and the part of the
CLI's output that may be shown (the log tail)."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass

from pulumi.automation import errors as pulumi_errors

from service.engines.failures import internal_error
from service.engines.model import EngineError
from service.engines.secrets import redact_text

LOCKED_TEXT = "the stack is currently locked by"
LOCK_HOLDER = re.compile(r"created by (?P<holder>.+?)(?: at |\n|$)")
ERROR_LINE = re.compile(r"^\s*error: (?P<message>.+)$", re.MULTILINE)
CANCELED_TEXT = re.compile(r"(?i)update (was )?cancell?ed|interrupt")
# `str(CommandError)` is the CommandResult: "\n code: N\n stdout: ...\n stderr: ...\n".
COMMAND_RESULT = re.compile(r"^\s*code: (?P<code>-?\d+)\n stdout: (?P<stdout>.*)\n stderr: ", re.S)
TAIL_LINES = 60
# Where the CLI's stdout stops being diagnostics: resource lines, outputs, a diff's values.
NOT_DIAGNOSTICS = re.compile(r"^(Outputs|Resources|Duration|Previewing|Updating|Destroying)\b")


@dataclass(frozen=True)
class CliOutput:
    code: int | None
    stdout: str
    stderr: str

    @classmethod
    def of(cls, error: pulumi_errors.CommandError) -> CliOutput:
        text = str(error)
        found = COMMAND_RESULT.match(text)
        if found is None:
            return cls(code=None, stdout="", stderr=text)
        stderr = text[found.end() :].removesuffix("\n")
        return cls(int(found.group("code")), found.group("stdout"), stderr)

    def cause(self) -> str:
        """The line that says what went wrong: the CLI's first `error:`, else its last word."""
        for stream in (self.stderr, self.stdout):
            found = ERROR_LINE.search(stream)
            if found:
                return found.group("message").strip()
        for stream in (self.stderr, self.stdout):
            lines = [line.strip() for line in stream.splitlines() if line.strip()]
            if lines:
                return lines[-1]
        return f"the Pulumi CLI exited with code {self.code} and printed nothing"

    def tail(self) -> str:
        """What may be shown of the output: stderr, and stdout's diagnostics only (never its
        resource lines or outputs, which can carry property values)."""
        kept: list[str] = []
        in_diagnostics = False
        for line in self.stdout.splitlines():
            if line.startswith("Diagnostics:"):
                in_diagnostics = True
            elif NOT_DIAGNOSTICS.match(line):
                in_diagnostics = False
            if in_diagnostics or ERROR_LINE.match(line):
                kept.append(line)
        kept.extend(self.stderr.splitlines())
        return "\n".join(kept[-TAIL_LINES:]).strip()


def classify(
    error: BaseException, *, interrupted: bool = False, known_secrets: tuple[str, ...] = ()
) -> EngineError:
    """Map an Automation API exception to a code and a sentence; details stay in events."""
    if isinstance(error, EngineError):
        return error
    if isinstance(error, FileNotFoundError):
        return EngineError("pulumi_cli_missing", "The Pulumi CLI could not be started.")
    if isinstance(error, subprocess.CalledProcessError):
        return EngineError(
            "pulumi_cli_broken",
            f"The Pulumi CLI failed to report its version (exit code {error.returncode}).",
        )
    if isinstance(error, pulumi_errors.InvalidVersionError):
        return EngineError("pulumi_cli_version", f"The Pulumi CLI does not fit the SDK: {error}")
    if not isinstance(error, pulumi_errors.CommandError):
        # Not the CLI's answer but a failure around it (a file, a value, a bug): ours to read.
        return internal_error(error, known_secrets)
    output = CliOutput.of(error)
    cause = redact_text(output.cause(), known_secrets)[:400]
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
    if interrupted:
        return EngineError("cancelled", f"Cancelled on request; Pulumi stopped with: {cause}")
    if isinstance(error, pulumi_errors.InlineSourceRuntimeError | pulumi_errors.RuntimeError):
        return EngineError("program_error", f"The program failed: {cause}")
    if isinstance(error, pulumi_errors.StackNotFoundError):
        return EngineError("stack_not_found", "The Pulumi stack does not exist in the backend.")
    return EngineError("pulumi_failed", f"Pulumi failed: {cause}")


def log_tail(error: BaseException, known_secrets: tuple[str, ...] = ()) -> str | None:
    """The CLI's output worth showing with a failure, secrets masked; None if there is none."""
    if not isinstance(error, pulumi_errors.CommandError):
        return None
    tail = CliOutput.of(error).tail()
    return redact_text(tail, known_secrets) if tail else None
