"""The embedded PostgreSQL goes away with `serve`: on SIGTERM, on SIGINT, and after a kill -9
once the next start has adopted it and stops cleanly."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests.e2e.embedded import gone, postgres_of, serve_embedded


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_a_stopped_serve_leaves_no_postgres(tmp_path: Path, stop_signal: int) -> None:
    data_dir = tmp_path / "data"
    process, _ = serve_embedded(data_dir, tmp_path / "serve.log")
    assert postgres_of(data_dir)

    process.send_signal(stop_signal)
    process.wait(timeout=60)

    assert gone(data_dir), (tmp_path / "serve.log").read_text()


def test_after_a_kill_the_next_serve_adopts_the_server_and_stops_it(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    killed, _ = serve_embedded(data_dir, tmp_path / "serve.log")
    killed.kill()
    killed.wait(timeout=30)
    left = postgres_of(data_dir)
    assert left  # the situation to recover from: a server whose owner is gone

    restarted, _ = serve_embedded(data_dir, tmp_path / "serve.log")
    assert {p.pid for p in postgres_of(data_dir)} >= {p.pid for p in left if p.is_running()}
    restarted.send_signal(signal.SIGTERM)
    restarted.wait(timeout=60)

    assert gone(data_dir), (tmp_path / "serve.log").read_text()
