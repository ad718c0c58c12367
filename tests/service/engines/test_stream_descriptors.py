"""The worker closes each descriptor of a forked engine process's streams once.

Under uvloop, a pipe handed to the loop as a file object is closed twice when its transport
closes: by libuv, then by the file object (MagicStack/uvloop#763). The second close takes
whatever descriptor another thread was given that number in between, which is how a scheduled
wave of 1,000 environments killed `serve`. A second close of a number nobody reused fails with
EBADF, so a trace of the loop thread's closes shows each one, reused or not.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.system_tools import require_tool

REPOSITORY = Path(__file__).resolve().parents[3]


def test_the_loop_thread_closes_no_descriptor_twice_as_forked_engines_end(
    tmp_path: Path,
) -> None:
    strace = require_tool("strace")
    trace = tmp_path / "closes.strace"
    # Without -f: the main thread only, where the event loop reads and closes the streams.
    traced = [strace, "-qq", "-e", "trace=close", "-e", "status=failed", "-o", str(trace)]
    done = subprocess.run(
        [*traced, sys.executable, "-m", "tests.service.engines.forked_streams"],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert "operations succeeded: 5 of 5" in done.stdout
    closed_twice = [line for line in trace.read_text().splitlines() if "EBADF" in line]
    assert closed_twice == []
