"""The PostgreSQL state backend against the file backend, on the real CLI.

Not a test, and not part of `make bench` (it needs the Pulumi CLI on PATH and takes a few
minutes): `cd bench && ../.venv/bin/python pulumi_state.py`. It deploys the docs' example
environment straight to tier 7 once, through the real engine and the simulated AWS provider of
the integration suite, into the default backend (a private embedded PostgreSQL), then reports:

- the state table's size for that one stack after the deploy and BENCH_UPDATES more updates,
  as before pulumi_history.py (the CLI's checkpoint backups on, every update's history kept),
  then after as many updates again with history pruning (BENCH_HISTORY_KEPT updates) and no
  backups;
- what reading (`pulumi stack export`) and writing (`pulumi stack import`) that checkpoint take
  on each backend, which is what the backend adds to a step (each `pulumi up` reads it once and
  writes it at least twice). CLI start-up is in both figures alike; compare them.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from psycopg import sql

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY))

from db.embedded import pgserver  # noqa: E402
from db.engine import libpq_url  # noqa: E402
from db.migrate import upgrade_database  # noqa: E402
from db.roles import STATE_ROLE, as_user, ensure_app_login, grant_state_role  # noqa: E402
from service.engines.model import StepRequest  # noqa: E402
from service.engines.protocol import PulumiOptions  # noqa: E402
from service.engines.pulumi_backend import StateBackend, postgres_backend  # noqa: E402
from service.engines.pulumi_engine import PulumiEngine  # noqa: E402
from service.engines.pulumi_workspace import STATELESS_ENV  # noqa: E402
from service.engines.secrets import memory_file  # noqa: E402
from service.reference import EXAMPLE_SPEC  # noqa: E402
from tests.integration.aws_plugin.install import install_simulated_aws  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
UPDATES = int(os.environ.get("BENCH_UPDATES", "2"))
HISTORY_KEPT = int(os.environ.get("BENCH_HISTORY_KEPT", "2"))
PASSPHRASE = "bench"
TIER = 7
BACKUPS_SWITCH = "PULUMI_DIY_BACKEND_DISABLE_CHECKPOINT_BACKUPS"


def main() -> None:

    with tempfile.TemporaryDirectory(prefix="stepladder-bench-") as folder:
        root = Path(folder)
        server = pgserver().get_server(root / "pg", cleanup_mode="delete")
        database = f"bench_{uuid.uuid4().hex[:6]}"
        with psycopg.connect(libpq_url(server.get_uri()), autocommit=True) as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
        owner = server.get_uri(database)
        upgrade_database(owner)
        ensure_app_login(owner, STATE_ROLE)
        grant_state_role(owner, STATE_ROLE)
        postgres = postgres_backend(as_user(owner, STATE_ROLE, keep_password=False))
        _offline_cli(root)

        # Before: the CLI's own defaults, a full checkpoint backup and history entry per update.
        disabled_backups = STATELESS_ENV.pop(BACKUPS_SWITCH)
        started = time.perf_counter()
        _deploy(root, postgres, history_kept=0)
        print(f"tier {TIER} deploy (one `pulumi up`, postgres backend): "
              f"{time.perf_counter() - started:.1f}s")  # fmt: skip
        for _ in range(UPDATES):
            _deploy(root, postgres, history_kept=0)
        _report_sizes(owner, f"before, after the deploy and {UPDATES} updates")
        STATELESS_ENV[BACKUPS_SWITCH] = disabled_backups
        for _ in range(UPDATES):
            _deploy(root, postgres, history_kept=HISTORY_KEPT)
        _report_sizes(owner, f"after {UPDATES} more updates, history kept {HISTORY_KEPT}")

        checkpoint = _cli(root, postgres, "stack", "export", "--stack", EXAMPLE_SPEC.name)
        files = StateBackend(f"file://{root / 'file-state'}")
        (root / "file-state").mkdir()
        _cli(root, files, "stack", "init", EXAMPLE_SPEC.name, "--no-select")
        for backend, label in ((files, "file"), (postgres, "postgres")):
            reads = _timed(root, backend, "stack", "export", "--stack", EXAMPLE_SPEC.name)
            with memory_file(checkpoint, "checkpoint.json") as path:
                writes = _timed(
                    root, backend, "stack", "import", "--stack", EXAMPLE_SPEC.name, "--file", path
                )
            for kind, values in (("read (stack export)", reads), ("write (stack import)", writes)):
                print(f"{label:8} {kind:21} n={len(values)} median={statistics.median(values):.3f}s"
                      f" min={min(values):.3f}s max={max(values):.3f}s")  # fmt: skip


def _offline_cli(root: Path) -> None:
    home = root / "pulumi-home"
    install_simulated_aws(home, root / "simulated-aws")
    os.environ.update(
        PULUMI_HOME=str(home),
        PULUMI_SKIP_UPDATE_CHECK="true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION="true",
        PULUMI_CONFIG_PASSPHRASE=PASSPHRASE,
    )
    os.environ.pop("PULUMI_BACKEND_URL", None)


def _deploy(root: Path, backend: StateBackend, *, history_kept: int) -> None:
    options = PulumiOptions(
        backend.url, None, PASSPHRASE, backend.password, history_kept=history_kept
    )
    engine = PulumiEngine(options)
    spec = EXAMPLE_SPEC.at_tier(TIER)
    try:
        engine.run_step(StepRequest(action="up", spec=spec, to_tier=TIER), [], lambda e: None)
    finally:
        engine.close()


def _report_sizes(owner: str, moment: str) -> None:
    print(f"state rows of the tier-{TIER} stack, {moment}:")
    stack = f"%/{EXAMPLE_SPEC.name}%"
    with psycopg.connect(libpq_url(owner)) as connection:
        rows = connection.execute(
            "SELECT key, octet_length(data::text) FROM stepladder_pulumi.pulumi_state "
            "WHERE key LIKE %s ORDER BY key",
            (stack,),
        ).fetchall()
        table = connection.execute(
            "SELECT pg_total_relation_size('stepladder_pulumi.pulumi_state')"
        ).fetchone()
    for key, size in rows:
        print(f"  {size / 1024:8.1f} KiB  {key}")
    total = sum(size for _, size in rows)
    print(f"state rows of one tier-{TIER} stack: {len(rows)} rows, {total / 1024:.1f} KiB "
          f"(base64 in JSON); table on disk with its index and TOAST: "
          f"{(table[0] if table else 0) / 1024:.0f} KiB")  # fmt: skip


def _timed(root: Path, backend: StateBackend, *args: str) -> list[float]:
    timings = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        _cli(root, backend, *args)
        timings.append(time.perf_counter() - started)
    return timings


def _cli(root: Path, backend: StateBackend, *args: str) -> str:
    project = root / "project"
    project.mkdir(exist_ok=True)
    (project / "Pulumi.yaml").write_text("name: stepladder\nruntime: python\n")
    done = subprocess.run(
        ["pulumi", *args, "--non-interactive", "--cwd", str(project)],
        env={**os.environ, "PULUMI_BACKEND_URL": backend.url},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout


if __name__ == "__main__":
    main()
