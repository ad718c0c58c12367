"""Time for one environment to walk 0 -> 7 -> 0 through the API, and its resources per tier.

Run by hand (`cd bench && ../.venv/bin/python ladder_walk.py`; `make bench` runs run.py).
Simulator engine, pacing off: the figures are the control plane's own cost.
"""

from __future__ import annotations

import time

from server import embedded_database, running_server, wait_finished

DEFINITION = {
    "name": "walk",
    "region": "eu-west-1",
    "secondary_region": "us-east-1",
    "db_instance_class": "db.r6g.large",
    "federated_databases": ["users", "orders"],
}


def main() -> None:
    with embedded_database() as database_url, running_server(database_url) as server:
        client = server.client
        client.post("/api/environments", json=DEFINITION)
        walk = [("promote", tier) for tier in range(8)] + [("demote", t) for t in range(6, -1, -1)]
        started = time.perf_counter()
        for kind, tier in walk:
            step_started = time.perf_counter()
            operation = client.post(f"/api/environments/walk/{kind}", json={"confirm": "walk"})
            finished = wait_finished(client, operation.json()["id"])
            assert finished["status"] == "succeeded", finished
            resources = client.get("/api/environments/walk/resources").json()
            cloud = [r for r in resources if not r["type"].startswith(("pulumi:", "stepladder:"))]
            print(
                f"{kind:7} to tier {tier}: {len(cloud):3} AWS resources, "
                f"{time.perf_counter() - step_started:.2f}s"
            )
        print(f"whole walk (15 operations, simulator engine): {time.perf_counter() - started:.1f}s")


if __name__ == "__main__":
    main()
