"""The Pulumi CLI as the engine calls it: never after an interrupt, and remembering what ran.

The Automation API runs every command through one `PulumiCommand`; this one refuses to start
a command once the operation was interrupted (a cancelled operation never starts its next
step), and records which commands completed, so a failure while reading a finished update's
result is not mistaken for a failed update.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from pulumi import automation as auto
from pulumi.automation._cmd import CommandResult, OnOutput

from service.engines.model import EngineError

# Reading what a finished step did is never skipped, even after an interrupt.
READS = {("stack", "export"), ("stack", "output"), ("stack", "history")}


def subcommand(args: list[str]) -> tuple[str, ...]:
    """`["--non-interactive", "stack", "export", "--stack", "shop"]` -> ("stack", "export")."""
    words = [arg for arg in args if not arg.startswith("-")]
    return tuple(words[:2]) if words[:1] == ["stack"] else tuple(words[:1])


class GuardedCommand(auto.PulumiCommand):
    def __init__(self, is_interrupted: Callable[[], bool]) -> None:
        super().__init__()
        self._is_interrupted = is_interrupted
        self.completed: list[tuple[str, ...]] = []

    def run(
        self,
        args: list[str],
        cwd: str,
        additional_env: Mapping[str, str],
        on_output: OnOutput | None = None,
        on_error: OnOutput | None = None,
    ) -> CommandResult:
        command = subcommand(args)
        if self._is_interrupted() and command not in READS:
            raise EngineError(
                "cancelled",
                f"Cancelled on request; `pulumi {' '.join(command)}` was not started.",
            )
        result = super().run(args, cwd, additional_env, on_output, on_error)
        self.completed.append(command)
        return result

    def ran(self, command: str) -> bool:
        """Whether `pulumi <command>` completed since `forget()`."""
        return (command,) in self.completed

    def forget(self) -> None:
        self.completed.clear()
