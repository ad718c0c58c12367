"""The real engine's own overhead: a Stepladder step against a bare `pulumi up` of the same
program, on the same state backend and the same (simulated) `aws` plugin.

Not part of `make bench` (it needs the Pulumi CLI on PATH, `make pulumi-cli`, and takes
minutes): `cd bench && PATH=$(ls -d ../.tools/pulumi-*):$PATH ../.venv/bin/python
engine_overhead.py`. It starts `serve` with the pulumi engine on a private embedded PostgreSQL
(the default backend, its state table), walks one environment to tier 2 and one to tier 5
through the API, then, BENCH_ROUNDS times each, alternating:

- Stepladder: a schedule's "run now" of `set_capacity` (an `apply` at the current tier), from
  the request until the operation succeeded; with the knob unchanged (no change) and, at tier 5,
  with `web_min` changed (one knob; no schedulable knob acts below its first tier, so tier 2
  has no one-knob row);
- bare: the `pulumi up --yes --skip-preview` command line alone, of the same program (the spec
  the service builds from the environment, served inline as the Automation API does), on the
  same backend and plugin, timed inside an engine run in this process; for the one-knob row
  with `web_min` set to the value the service did not just apply, so it changes the same
  resources. (A `pulumi up` in programs/ by hand also needs the CLI's `pulumi-language-python`
  host, which `make pulumi-cli` does not build.)

Then the memory of one running operation: the engine process, the CLI, and the plugins the CLI
starts, sampled during a tier-5 step (RSS, and PSS, which counts pages shared with the fork
server once).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psutil
from pulumi.automation._cmd import CommandResult
from server import BENCH_DIR, embedded_database, running_server, wait_finished

sys.path.insert(0, str(BENCH_DIR.parent))

from db.engine import create_db_engine, session_scope
from db.roles import STATE_ROLE, ensure_app_login
from service.config import Settings
from service.engines.model import StepRequest
from service.engines.protocol import PulumiOptions
from service.engines.pulumi_backend import state_backend
from service.engines.pulumi_command import GuardedCommand, subcommand
from service.engines.pulumi_engine import PulumiEngine
from service.environments.repository import get_environment, list_resources
from service.operations.planning import build_spec
from tests.integration.aws_plugin.cloud import SimulatedAccount
from tests.integration.aws_plugin.install import install_simulated_aws

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
PASSPHRASE = "bench-engine"
REPOSITORY = BENCH_DIR.parent


def main() -> None:
    if shutil.which("pulumi") is None:
        raise SystemExit("needs the Pulumi CLI on PATH (make pulumi-cli)")
    print(f"# {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.2f} at start, {ROUNDS} rounds")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="stepladder-bench-engine-") as folder:
        root = Path(folder)
        account = SimulatedAccount(root / "aws")
        install_simulated_aws(root / "pulumi-home", account.root)
        os.environ.update(
            PULUMI_HOME=str(root / "pulumi-home"),
            PULUMI_SKIP_UPDATE_CHECK="true",
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION="true",
        )
        os.environ.pop("PULUMI_BACKEND_URL", None)
        with embedded_database() as database_url:
            ensure_app_login(database_url, STATE_ROLE)
            with running_server(
                database_url,
                engine="pulumi",
                pulumi_config_passphrase=PASSPHRASE,
                cancel_grace_seconds="120",
            ) as server:
                for tier in (2, 5):
                    compare(server.client, database_url, tier)
                print(memory_row(server.client, server.pid))
    print(f"# load {os.getloadavg()[0]:.2f} at the end")


def compare(client: httpx.Client, database_url: str, tier: int) -> None:
    name = f"bench-t{tier}"
    created = client.post("/api/environments", json={"name": name, "region": "eu-west-1"})
    assert created.status_code == 201, created.text
    for _ in range(tier + 1):
        operation = client.post(f"/api/environments/{name}/promote").json()
        assert wait_finished(client, operation["id"])["status"] == "succeeded", operation
    # The knob row: Stepladder sets web_min 3, the bare run 4, so each changes what the other left.
    rows = [("no change", None)] + ([("one knob (web_min)", (3, 4))] if tier >= 5 else [])
    for label, knob in rows:
        ours: list[float] = []
        bare: list[float] = []
        for round_number in range(ROUNDS):
            ours.append(stepladder_apply(client, name, knob and knob[0], round_number))
            bare.append(bare_up(database_url, name, knob and knob[1]))
        print(
            f"tier {tier}, {label:18}  Stepladder p50 {statistics.median(ours):6.1f} s  bare "
            f"`pulumi up` p50 {statistics.median(bare):6.1f} s  "
            f"{statistics.median(ours) / statistics.median(bare):.2f}x  <= 1.2x  "
            f"(all: {', '.join(f'{s:.1f}' for s in ours)} / {', '.join(f'{s:.1f}' for s in bare)})"
        )


def stepladder_apply(client: httpx.Client, name: str, web_min: int | None, number: int) -> float:
    overrides = {"web_min": web_min if web_min is not None else 2}
    schedule = client.post(
        f"/api/environments/{name}/schedules",
        json={"name": f"bench-{number}-{time.monotonic_ns() % 10**6}", "cron": "0 3 1 1 *",
              "action": "set_capacity", "overrides": overrides},
    )  # fmt: skip
    assert schedule.status_code == 201, schedule.text
    started = time.perf_counter()
    run = client.post(f"/api/environments/{name}/schedules/{schedule.json()['id']}/run")
    assert run.status_code == 202, run.text
    operation = wait_finished(client, run.json()["operation_id"])
    elapsed = time.perf_counter() - started
    assert operation["status"] == "succeeded", operation
    return elapsed


class TimedCommand(GuardedCommand):
    """The CLI as the engine runs it, timing each `pulumi up`: the bare command line, with the
    program served inline (`--client ... --exec-kind auto.inline`)."""

    def __init__(self) -> None:
        super().__init__(lambda: False)
        self.up_seconds: list[float] = []

    def run(self, args: list[str], *rest: Any, **kwargs: Any) -> CommandResult:
        started = time.perf_counter()
        result = super().run(args, *rest, **kwargs)
        if subcommand(args) == ("up",):
            assert "--yes" in args and "--skip-preview" in args, args
            self.up_seconds.append(time.perf_counter() - started)
        return result


def bare_up(database_url: str, name: str, web_min: int | None) -> float:
    """`pulumi up --yes --skip-preview` of the environment's program, as the service would
    build it (its definition, overrides and deployed zones), on the service's backend."""
    db = create_db_engine(database_url, pool_size=1)
    try:
        with session_scope(db) as session:
            environment = get_environment(session, name)
            assert environment is not None and environment.id is not None
            deployed = list(list_resources(session, environment.id))
            spec = build_spec(
                environment, environment.applied_tier or 0, requested_at=datetime.now(UTC),
                aws_endpoint_url=None, deployed=deployed,
            )  # fmt: skip
    finally:
        db.dispose()
    if web_min is not None:
        spec = dataclasses.replace(spec, web_min=web_min)
    backend = state_backend(Settings(), database_url)
    engine = PulumiEngine(PulumiOptions(backend.url, None, PASSPHRASE, backend.password))
    command = TimedCommand()
    engine._command = command
    try:
        engine.run_step(StepRequest(action="up", spec=spec, to_tier=spec.tier), [], lambda e: None)
    finally:
        engine.close()
    [seconds] = command.up_seconds
    return seconds


def memory_row(client: httpx.Client, serve_pid: int) -> str:
    """The peak memory of one running tier-5 operation's processes."""
    peak = {"rss": 0.0, "pss": 0.0, "processes": 0}
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            rss = pss = 0.0
            processes = _operation_processes(serve_pid)
            for process in processes:
                try:
                    info = process.memory_full_info()
                except psutil.Error:
                    continue
                rss += info.rss
                pss += info.pss
            if rss > peak["rss"]:
                peak.update(rss=rss, pss=pss, processes=len(processes))
            stop.wait(0.1)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        stepladder_apply(client, "bench-t5", 5, 99)
    finally:
        stop.set()
        sampler.join()
    return (
        f"memory of one running operation (tier 5): {peak['processes']} processes, RSS "
        f"{peak['rss'] / 2**20:.0f} MB, PSS {peak['pss'] / 2**20:.0f} MB (engine process, "
        "CLI, simulated plugin; the real aws plugin is larger, see README)"
    )


def _operation_processes(serve_pid: int) -> list[psutil.Process]:
    found = []
    for process in psutil.Process(serve_pid).children(recursive=True):
        try:
            if process.name() == "engine-child" or "service.engines.child" in process.cmdline():
                found.append(process)
                found.extend(process.children(recursive=True))
        except psutil.Error:
            continue
    return found


if __name__ == "__main__":
    main()
