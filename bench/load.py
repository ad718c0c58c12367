"""Closed-loop load: N clients, each sending the next request when the last answered."""

from __future__ import annotations

import statistics
import threading
import time
from dataclasses import dataclass

import httpx


@dataclass
class Load:
    per_second: float
    p50: float
    p99: float
    failures: int


def measure(url: str, path: str, headers: dict[str, str], clients: int, seconds: float) -> Load:
    latencies: list[float] = []
    failures = [0]
    lock = threading.Lock()
    stop_at = [0.0]
    # Once every client has warmed up, the clock starts, for all of them at once.
    ready = threading.Barrier(clients + 1, action=lambda: _start_clock(stop_at, seconds))

    def client_loop() -> None:
        with httpx.Client(base_url=url, headers=headers, timeout=120) as client:
            client.get(path)  # connect and warm up, not counted
            ready.wait()
            mine: list[float] = []
            failed = 0
            while time.monotonic() < stop_at[0] or not mine:  # at least one each
                started = time.perf_counter()
                status = client.get(path).status_code
                mine.append(time.perf_counter() - started)
                failed += status != 200
            with lock:
                latencies.extend(mine)
                failures[0] += failed

    threads = [threading.Thread(target=client_loop) for _ in range(clients)]
    for thread in threads:
        thread.start()
    ready.wait()
    started = time.monotonic()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return Load(len(latencies) / elapsed, statistics.median(latencies), p99, failures[0])


def _start_clock(stop_at: list[float], seconds: float) -> None:
    stop_at[0] = time.monotonic() + seconds
