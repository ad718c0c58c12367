"""Seconds from a promote (or demote) request to `succeeded`, through a real server process.

`make bench`. The simulator engine with its pacing off measures the control plane itself:
queueing, the child process, the program under mocks, and storing the result.
"""

from __future__ import annotations

import os
import statistics
import time

from server import running_server, wait_finished

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "10"))


def main() -> None:
    with running_server(simulator_seconds_per_resource="0") as client:
        client.post("/api/environments", json={"name": "bench", "region": "eu-west-1"})
        client.post("/api/environments/bench/promote")  # to tier 0: first deploy, not timed
        timings: dict[str, list[float]] = {"promote": [], "demote": []}
        for _ in range(ROUNDS):
            for kind in ("promote", "demote"):  # 0 -> 1 -> 0: the step down deletes the cluster
                started = time.perf_counter()
                operation = client.post(
                    f"/api/environments/bench/{kind}", json={"confirm": "bench"}
                ).json()
                finished = wait_finished(client, operation["id"])
                assert finished["status"] == "succeeded", finished
                timings[kind].append(time.perf_counter() - started)
        for kind, values in timings.items():
            print(
                f"{kind} (request to succeeded, simulator engine): n={len(values)} "
                f"median={statistics.median(values):.2f}s min={min(values):.2f}s "
                f"max={max(values):.2f}s"
            )


if __name__ == "__main__":
    main()
