"""The engine process forwards its worker's death to the CLI it started, and never outlives it.

A real process tree: an engine process (running `forward_interrupts`, as the child does for the
pulumi engine) starts a CLI stand-in in its process group, as the Automation API starts
`pulumi`. SIGTERM is what the engine gets when its worker dies (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

ENGINE = """
import subprocess, sys
from service.engines.child import forward_interrupts
noted = []
forward_interrupts(lambda: noted.append(True), grace_seconds=float(sys.argv[3]))
cli = subprocess.Popen([sys.executable, "-c", sys.argv[1], sys.argv[2]], stdout=subprocess.PIPE)
print(cli.pid, cli.stdout.readline().decode().strip(), flush=True)
cli.wait()
print("cli stopped", "noted" if noted else "not noted", flush=True)
"""
# Like the Pulumi CLI: SIGINT means finish what is in flight, then exit (or, here, ignore it).
CLI = """
import signal, sys, time
from pathlib import Path
marker = Path(sys.argv[1])
def on_sigint(*_):
    marker.write_text("interrupted")
    if not marker.name.startswith("stubborn"):
        sys.exit(0)
signal.signal(signal.SIGINT, on_sigint)
print("ready", flush=True)
while True:
    time.sleep(1)
"""


def _start_engine(marker: Path, grace: float) -> tuple[subprocess.Popen[str], int]:
    engine = subprocess.Popen(
        [sys.executable, "-c", ENGINE, CLI, str(marker), str(grace)],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,  # as the worker starts it
    )
    assert engine.stdout is not None
    cli_pid, ready = engine.stdout.readline().split()
    assert ready == "ready"
    return engine, int(cli_pid)


def test_the_worker_gone_the_cli_is_interrupted_and_the_engine_waits_for_it(
    tmp_path: Path,
) -> None:
    marker = tmp_path / "cli-interrupted"
    engine, _ = _start_engine(marker, grace=600)

    engine.send_signal(signal.SIGTERM)
    output, _ = engine.communicate(timeout=60)

    assert marker.read_text() == "interrupted"
    assert output.strip() == "cli stopped noted"
    assert engine.returncode == 0


def test_a_cli_that_does_not_stop_within_the_grace_is_killed_with_its_engine(
    tmp_path: Path,
) -> None:
    marker = tmp_path / "stubborn-cli-interrupted"
    engine, cli_pid = _start_engine(marker, grace=0.5)

    engine.send_signal(signal.SIGTERM)
    engine.communicate(timeout=60)

    assert marker.read_text() == "interrupted"
    assert engine.returncode == -signal.SIGKILL
    assert not _running(cli_pid)


def _running(pid: int) -> bool:
    """Alive and not a zombie: an orphan killed here waits for init (tini in the image)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")
