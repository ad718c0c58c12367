"""The pulumi engine on the real CLI: counting, interrupts, kill -9 and recovery.

The programs here use a Pulumi dynamic provider (Pulumi's own `pulumi-resource-pulumi-python`
plugin, shipped with the CLI and the SDK) instead of AWS: a resource whose create can be made
slow, and whose `generation` input forces a replacement. Everything else is the product's code
(`PulumiEngine`, recovery, the child's interrupt forwarding) against the real CLI and a file
backend. Skipped where no `pulumi` is on PATH (see conftest.py).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi import automation as auto
from pulumi.automation._cmd import CommandResult

from programs import EnvironmentSpec
from service.engines.model import EngineError, StepRequest, StepResult, normalise_urn
from service.engines.protocol import PulumiOptions
from service.engines.pulumi_command import READS, GuardedCommand, subcommand
from service.engines.pulumi_engine import PulumiEngine
from service.engines.pulumi_state import local_backend_dir
from service.engines.sessions import kill_process_tree
from tests.integration.conftest import REQUIRED
from tests.integration.dynamic_things import Thing

REPOSITORY = Path(__file__).resolve().parents[2]
SPEC = EnvironmentSpec(name="shop", tier=0, region="eu-west-1")
PASSPHRASE = "integration-passphrase"
DYNAMIC_PLUGIN = "pulumi-resource-pulumi-python"


def program(generation: int, seconds: float = 0, marker: str = "") -> Callable[..., None]:
    def run(spec: EnvironmentSpec) -> None:
        Thing(f"{spec.name}-thing", {"generation": generation, "seconds": seconds,
                                     "marker": marker})  # fmt: skip
        Thing(f"{spec.name}-steady", {"generation": 0})
        pulumi.export("endpoint", f"{spec.name}.example")

    return run


def engine_for(root: Path, **kwargs: Any) -> PulumiEngine:
    options = PulumiOptions(
        backend_url=f"file://{root / 'state'}",
        secrets_provider=None,
        passphrase=PASSPHRASE,
    )
    (root / "state").mkdir(parents=True, exist_ok=True)
    return PulumiEngine(options, program=program(**kwargs))


def up(engine: PulumiEngine, events: list[dict[str, Any]] | None = None) -> StepResult:
    sink = events.append if events is not None else (lambda event: None)
    return engine.run_step(StepRequest(action="up", spec=SPEC, to_tier=0), [], sink)


def _dynamic_plugin() -> Path | None:
    """Pulumi's dynamic provider launcher: beside the CLI, on PATH, or in the SDK's module."""
    found = shutil.which(DYNAMIC_PLUGIN)
    if found:
        return Path(found)
    cli = shutil.which("pulumi")
    if cli and (Path(cli).resolve().parent / DYNAMIC_PLUGIN).exists():
        return Path(cli).resolve().parent / DYNAMIC_PLUGIN
    if cli is None or shutil.which("go") is None:
        return None
    modules = subprocess.run(["go", "env", "GOMODCACHE"], capture_output=True, text=True)
    version = subprocess.run([cli, "version"], capture_output=True, text=True)
    folder = (
        Path(modules.stdout.strip())
        / f"github.com/pulumi/pulumi/sdk/v3@{version.stdout.strip()}/python/dist"
    )
    return folder / DYNAMIC_PLUGIN if (folder / DYNAMIC_PLUGIN).exists() else None


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An offline CLI with a private PULUMI_HOME, and the dynamic provider plugin on PATH."""
    plugin = _dynamic_plugin()
    if plugin is None:
        missing = f"{DYNAMIC_PLUGIN} (shipped with the Pulumi CLI's SDK module) is not available"
        if REQUIRED:
            pytest.fail(f"{missing}; STEPLADDER_PULUMI_TESTS_REQUIRED=1 requires it")
        pytest.skip(missing)
    plugin_dir = tmp_path / "bin"
    plugin_dir.mkdir()
    shutil.copy(plugin, plugin_dir / DYNAMIC_PLUGIN)  # the module cache's copy is read-only
    (plugin_dir / DYNAMIC_PLUGIN).chmod(0o755)
    monkeypatch.setenv("PULUMI_HOME", str(tmp_path / "pulumi-home"))
    monkeypatch.setenv("PULUMI_SKIP_UPDATE_CHECK", "true")
    monkeypatch.setenv("PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION", "true")
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE", raising=False)
    monkeypatch.delenv("PULUMI_BACKEND_URL", raising=False)
    monkeypatch.setenv("PULUMI_PYTHON_CMD", sys.executable)
    monkeypatch.setenv("PATH", f"{plugin_dir}{os.pathsep}{os.environ['PATH']}")
    # The dynamic provider process unpickles `Slow` by reference: it imports its module.
    monkeypatch.setenv("PYTHONPATH", str(REPOSITORY))
    yield tmp_path


def test_a_replacement_counts_once_and_agrees_with_the_engines_summary(root: Path) -> None:
    created = up(engine_for(root, generation=1))
    assert sorted(change.op for change in created.changes) == ["create", "create"]

    events: list[dict[str, Any]] = []
    preview = engine_for(root, generation=2).run_step(
        StepRequest(action="preview", spec=SPEC, to_tier=0), [], events.append
    )
    lines = [event["message"] for event in events if event["type"] == "resource_pre"]
    assert lines == ["would replace pulumi-python:dynamic:Resource shop-thing"]  # once
    assert {change.name: change.op for change in preview.changes} == {
        "shop-thing": "replace", "shop-steady": "same"}  # fmt: skip

    events = []
    replaced = up(engine_for(root, generation=2), events)

    assert {change.name: change.op for change in replaced.changes} == {
        "shop-thing": "replace", "shop-steady": "same"}  # fmt: skip
    warnings = [e["message"] for e in events if e.get("severity") in ("warning", "error")
                and not e["message"].startswith(f"using {DYNAMIC_PLUGIN} from $PATH")]  # fmt: skip
    assert warnings == []  # no disagreement with the summary, no cancellation warning
    assert replaced.outputs == {"endpoint": "shop.example"}
    assert {r.name for r in replaced.resources if r.custom} >= {"shop-thing", "shop-steady"}
    # The engine gives a top-level resource no parent type; the mock monitor's form of the same
    # resource normalises to it (defect 9).
    thing = next(change for change in replaced.changes if change.name == "shop-thing")
    engine_urn = "urn:pulumi:shop::stepladder::pulumi-python:dynamic:Resource::shop-thing"
    assert thing.urn == engine_urn
    assert (
        normalise_urn(engine_urn.replace("::pulumi-python", "::pulumi:pulumi:Stack$pulumi-python"))
        == engine_urn
    )

    events = []
    refreshed = engine_for(root, generation=2).run_step(
        StepRequest(action="refresh", spec=SPEC, to_tier=0), [], events.append
    )
    assert {change.op for change in refreshed.changes} == {"same"}
    warnings = [e["message"] for e in events if e.get("severity") in ("warning", "error")
                and not e["message"].startswith(f"using {DYNAMIC_PLUGIN} from $PATH")]  # fmt: skip
    assert warnings == []  # the refresh's counts agree with its summary too


def start_engine_driver(setup: str) -> subprocess.Popen[str]:
    """An engine process as the worker starts one: its own session, interrupts forwarded.

    `setup` is Python that defines `engine` and `step()`, the step to run; the process prints
    its outcome as one JSON line."""
    script = f"""
import json
from pathlib import Path
from service.engines.child import forward_interrupts
from service.engines.model import EngineError
{setup}
forward_interrupts(lambda: setattr(engine, "interrupted", True), 600)
try:
    step()
    print(json.dumps({{"result": "done"}}))
except EngineError as error:
    print(json.dumps({{"error": error.code, "message": error.message}}))
"""
    return subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
        cwd=REPOSITORY,
    )


def _driver(root: Path, seconds: float, marker: Path) -> subprocess.Popen[str]:
    return start_engine_driver(f"""
from tests.integration.test_pulumi_recovery import engine_for, up
engine = engine_for(Path({str(root)!r}), generation=1, seconds={seconds}, marker={str(marker)!r})
step = lambda: up(engine)
""")


def _wait_for(marker: Path, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 300
    while not marker.exists():
        assert process.poll() is None, "the engine ended before the slow create started"
        assert time.monotonic() < deadline, "the slow create never started"
        time.sleep(0.1)


def _processes_holding(secret: str) -> list[str]:
    """Command lines of the processes whose environment contains `secret`."""
    found = []
    for process in Path("/proc").iterdir():
        try:
            if secret.encode() in (process / "environ").read_bytes():
                found.append((process / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except (OSError, ValueError):
            continue  # gone meanwhile, or not ours to read
    return found


def _locks(root: Path) -> list[Path]:
    backend = local_backend_dir(f"file://{root / 'state'}")
    assert backend is not None
    return list((backend / ".pulumi" / "locks").glob("**/*.json"))


def test_an_interrupt_mid_create_lets_the_cli_finish_and_unlock(root: Path) -> None:
    marker = root / "creating"
    driver = _driver(root, seconds=3, marker=marker)
    _wait_for(marker, driver)

    assert _processes_holding(PASSPHRASE) == []  # not the CLI's, not its plugins' environment
    os.killpg(driver.pid, signal.SIGINT)  # as the worker cancels: the whole group
    output, _ = driver.communicate(timeout=300)

    assert json.loads(output.strip().splitlines()[-1])["error"] == "cancelled"
    assert _locks(root) == []
    project = root / "project"  # the engine's own workspace folder went with its process
    project.mkdir()
    (project / "Pulumi.yaml").write_text("name: stepladder\nruntime: python\n")
    state = subprocess.run(
        ["pulumi", "stack", "export", "--stack", "shop", "--cwd", str(project)],
        capture_output=True, text=True, check=True,
        env={**os.environ, "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
             "PULUMI_BACKEND_URL": f"file://{root / 'state'}"},
    )  # fmt: skip
    assert "pending_operations" not in json.loads(state.stdout)["deployment"]
    again = up(engine_for(root, generation=1))
    assert sum(1 for r in again.resources if r.name == "shop-thing") == 1


def test_kill_9_mid_create_clears_the_dead_lock_and_stops_on_the_pending_create(
    root: Path,
) -> None:
    marker = root / "creating"
    driver = _driver(root, seconds=120, marker=marker)
    _wait_for(marker, driver)

    kill_process_tree(driver.pid)  # the engine, its CLI and the CLI's plugins: a lost machine
    driver.wait()
    assert _locks(root), "the killed update left its lock"

    events: list[dict[str, Any]] = []
    with pytest.raises(EngineError) as stopped:
        up(engine_for(root, generation=1), events)

    assert stopped.value.code == "needs_attention"
    assert "pulumi-python:dynamic:Resource::shop-thing" in stopped.value.message
    assert _locks(root) == []
    assert any("cleared the stale lock" in event["message"] for event in events)


class ReadsFailAfterUp(GuardedCommand):
    """The real CLI, except that reading anything back after `pulumi up` fails (a network
    blip to the state backend): the update itself ran."""

    def run(self, args: list[str], *rest: Any, **kwargs: Any) -> CommandResult:
        if self.ran("up") and subcommand(args) in READS:
            raise auto.errors.CommandError(
                CommandResult(stdout="", stderr="error: read failed: connection reset", code=255)
            )
        return super().run(args, *rest, **kwargs)


def test_a_completed_update_is_not_failed_by_a_follow_up_read(root: Path) -> None:
    engine = engine_for(root, generation=1)
    engine._command = ReadsFailAfterUp(lambda: engine.interrupted)
    events: list[dict[str, Any]] = []

    done = up(engine, events)

    assert {change.name: change.op for change in done.changes} == {
        "shop-thing": "create", "shop-steady": "create"}  # fmt: skip
    assert {r.name for r in done.resources if r.custom} >= {"shop-thing", "shop-steady"}
    assert done.outputs == {"endpoint": "shop.example"}
    warnings = [e["message"] for e in events if e.get("severity") == "warning"]
    assert any("completed, but reading its result failed" in w for w in warnings)
    assert all("code: 255" not in w for w in warnings)
