"""Moving every stack from one Pulumi state backend to another (`stepladder state migrate`).

For users who started on the file backend: each stack is exported from the source with its
secrets still encrypted (no `--show-secrets`, so nothing readable leaves the CLI), created in
the target, imported, and read back; the target must then hold exactly the source's resources.
The source is left as it was. Refused while an operation is queued or running, since its
update would write to the source mid-copy, and when the target already has one of the stacks.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlmodel import Session, col, select

from db.models import Operation, OperationStatus
from service.engines.owned_temp import owned_temp_dir, remove_owned_temp_dir
from service.engines.pulumi_backend import StateBackend, pgpass_line
from service.engines.pulumi_state import local_backend_dir
from service.engines.secrets import memory_file, redact_text
from service.errors import Conflict, StepladderError

PROJECT = "stepladder"
IN_FLIGHT = (OperationStatus.queued, OperationStatus.running)


@dataclass(frozen=True)
class MovedStack:
    name: str
    resources: int


class StateMigrationFailed(StepladderError):
    status_code = 500
    error = "state_migration_failed"


def backend_from_url(url: str) -> StateBackend:
    """A backend URL as typed, its password (a `postgres://` login's) kept apart."""
    if not url.startswith("postgres://"):
        return StateBackend(url)
    login = make_url(url)
    plain = login._replace(password=None).render_as_string(hide_password=False)
    return StateBackend(plain, login.password or None)


def refuse_while_operations_run(session: Session) -> None:
    running = session.exec(select(Operation.id).where(col(Operation.status).in_(IN_FLIGHT))).all()
    if running:
        ids = ", ".join(str(i) for i in sorted(i for i in running if i is not None))
        raise Conflict(
            f"Operations {ids} are queued or running; "
            "their updates would write to the old backend mid-copy. Let them finish (and stop "
            "the workers) first."
        )


def migrate_stacks(
    source: StateBackend,
    target: StateBackend,
    *,
    passphrase: str | None,
    secrets_provider: str | None,
) -> list[MovedStack]:
    """Copy every stack of the project from `source` to `target`; what was moved."""
    if source.url == target.url:
        raise Conflict("The target is the backend the stacks are already in.")
    target_dir = local_backend_dir(target.url)
    if target_dir is not None:
        target_dir.mkdir(parents=True, exist_ok=True)  # the CLI does not create it
    with _project() as folder:
        source_cli = _Cli(folder, source, passphrase)
        target_cli = _Cli(folder, target, passphrase)
        names = source_cli.stack_names()
        already = sorted(set(names) & set(target_cli.stack_names()))
        if already:
            raise Conflict(
                f"The target already has the stacks {', '.join(already)}; nothing was moved."
            )
        moved = []
        for name in names:
            exported = source_cli.run("stack", "export", "--stack", name)
            provider = ["--secrets-provider", secrets_provider] if secrets_provider else []
            target_cli.run("stack", "init", name, "--no-select", *provider)
            with memory_file(exported, "stack-export.json") as path:
                target_cli.run("stack", "import", "--stack", name, "--file", path)
            expected = _urns(exported)
            found = _urns(target_cli.run("stack", "export", "--stack", name))
            if found != expected:
                raise StateMigrationFailed(
                    f"Stack {name} holds {len(found)} resources in the target after its import, "
                    f"{len(expected)} in the source; the source is unchanged."
                )
            moved.append(MovedStack(name, len(expected)))
    return moved


class _Cli:
    """The `pulumi` CLI against one backend, its secrets given as memory files."""

    def __init__(self, folder: Path, backend: StateBackend, passphrase: str | None) -> None:
        self.folder = folder
        self.backend = backend
        self.passphrase = passphrase

    def stack_names(self) -> list[str]:
        listed: list[dict[str, Any]] = json.loads(self.run("stack", "ls", "--json"))
        return [str(stack["name"]) for stack in listed]

    def run(self, *args: str) -> str:
        with self._environment() as env:
            done = subprocess.run(
                ["pulumi", *args, "--non-interactive", "--cwd", str(self.folder)],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
        if done.returncode != 0:
            secrets = (self.passphrase or "", self.backend.password or "")
            cause = redact_text(done.stderr.strip() or done.stdout.strip(), secrets)[-600:]
            raise StateMigrationFailed(
                f"`pulumi {' '.join(args[:2])}` against {self.backend.url} failed: {cause}"
            )
        return done.stdout

    @contextlib.contextmanager
    def _environment(self) -> Iterator[Mapping[str, str]]:
        env = {
            **os.environ,
            "PULUMI_BACKEND_URL": self.backend.url,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
        }
        with contextlib.ExitStack() as files:
            if self.passphrase is not None:
                env["PULUMI_CONFIG_PASSPHRASE_FILE"] = files.enter_context(
                    memory_file(self.passphrase, "pulumi-passphrase")
                )
            if self.backend.password:
                env["PGPASSFILE"] = files.enter_context(
                    memory_file(pgpass_line(self.backend.password), "pulumi-state-pgpass")
                )
            yield env


@contextlib.contextmanager
def _project() -> Iterator[Path]:
    """A folder the CLI takes for the project: DIY backends keep stacks per project."""
    folder = owned_temp_dir("state")
    try:
        (folder / "Pulumi.yaml").write_text(f"name: {PROJECT}\nruntime: python\n")
        yield folder
    finally:
        remove_owned_temp_dir(folder)


def _urns(exported: str) -> list[str]:
    deployment = json.loads(exported).get("deployment") or {}
    return sorted(str(item["urn"]) for item in deployment.get("resources") or [])
