"""`make bench`: every row of issue 15's table as a ratio against its floor, measured in the
same run on the same machine, then the scale figures. `--full` uses the issue's sizes; the
default quick sizes keep a shared machine usable (the ratios, not the sizes, are the point).
"""

from __future__ import annotations

import datetime
import os
import platform
import statistics
import sys
import threading
import time
from collections import Counter
from typing import Any

import httpx
import psycopg
from floors import declaration_seconds, import_seconds
from load import measure
from scale import queue_figures, schedule_tick_figures
from server import (
    HEADERS,
    embedded_database,
    fork_server_megabytes,
    rss_megabytes,
    running_server,
    wait_finished,
)

from db.engine import libpq_url

FULL = "--full" in sys.argv
# `--only=steps,plans`: just those groups of rows (and the floors they are read against).
SECTIONS = ("reads", "steps", "plans", "queue", "schedules")
ONLY = next((arg.split("=", 1)[1].split(",") for arg in sys.argv if arg.startswith("--only=")),
            SECTIONS)  # fmt: skip
SIZES: dict[str, Any] = {
    "rounds": 10 if FULL else 3,
    "load_seconds": 10.0 if FULL else 3.0,
    "plans": 50 if FULL else 20,
    "burst": 200 if FULL else 40,
    "deploys": 40 if FULL else 10,
    "scale_environments": 200 if FULL else 10,
    "scale_operations": 1000 if FULL else 50,
    "schedules": 10_000,
    "due": 100,
}
ENVIRONMENTS_LISTED = 100


def row(name: str, figure: str, ratio: float | None, goal: str, holds: bool | None) -> None:
    ratio_text = f"{ratio:6.2f}x" if ratio is not None else "    -  "
    verdict = {True: "HOLDS", False: "MISSED", None: "n/a"}[holds]
    print(f"{name:<44} {figure:<46} {ratio_text}  {goal:<34} {verdict}")


def main() -> None:
    print(
        f"# {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, "
        f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.2f} at start, "
        f"{'full' if FULL else 'quick'} sizes"
    )
    rounds = SIZES["rounds"]
    imports = import_seconds(rounds)
    declared = declaration_seconds(rounds)
    print(f"floor: import pulumi, pulumi_aws {imports * 1000:.0f} ms")
    print(
        "floor: declaring under mocks, warm process: "
        + ", ".join(
            f"tier {tier} {f['seconds'] * 1000:.0f} ms / {f['resources']:.0f} res"
            for tier, f in declared.items()
        )
    )
    with embedded_database() as database_url:
        if "reads" in ONLY or "steps" in ONLY:
            with running_server(database_url, worker_concurrency="2") as server:
                idle_rss = rss_megabytes(server.pid)
                if "reads" in ONLY:
                    section(reads, server.client, server.url, database_url)
                if "steps" in ONLY:
                    section(steps, server.client, declared, idle_rss, server.pid)
        if "steps" in ONLY:
            # The same step with each engine process started directly: the fork server's share.
            with running_server(database_url, engine_fork_server="false") as server:
                section(steps_started_directly, server.client, declared)
        if "plans" in ONLY:
            plan_names = [f"plan-{index:03d}" for index in range(SIZES["rounds"] + SIZES["burst"])]
            direct_names = [f"direct-plan-{index:03d}" for index in range(SIZES["rounds"])]
            with running_server(database_url, without_worker=True) as api:
                _queue_at_tier_1(api.client, plan_names + direct_names)
            # The set-tier requests planned (and priced) tiers 0 and 1 of each: forget those
            # declarations, in the table here and in memory by starting new processes.
            _forget_declarations(database_url)
            with running_server(database_url, without_worker=True) as api:
                section(plans, api.client, declared, plan_names)
            with running_server(
                database_url, without_worker=True, engine_fork_server="false"
            ) as api:
                section(first_plans_started_directly, api.client, declared, direct_names)
        if "queue" in ONLY:
            with running_server(database_url, worker_concurrency="4") as server:
                scale = SIZES["scale_environments"], SIZES["scale_operations"]
                section(queue_figures, server.client, *scale)
    if "schedules" in ONLY:
        with embedded_database() as database_url:
            section(schedule_tick_figures, database_url, SIZES["schedules"], SIZES["due"])
    row("make test (pytest share)", "not run here: the suite's own run", None, "<= 5 min", None)
    print(f"# load {os.getloadavg()[0]:.2f} at the end")


def section(measure_section: Any, *arguments: Any) -> None:
    """One group of rows; a failure is printed as such and the next group still runs."""
    try:
        measure_section(*arguments)
    except Exception as error:  # noqa: BLE001 - printed as a failed row, never hidden
        print(f"{measure_section.__name__}: FAILED to measure: {type(error).__name__}: {error}")


def reads(client: httpx.Client, url: str, database_url: str) -> None:
    from server import bare_route

    for index in range(ENVIRONMENTS_LISTED):
        client.post("/api/environments", json={"name": f"list-{index:03d}", "region": "eu-west-1"})
    seconds = SIZES["load_seconds"]
    with bare_route(database_url) as bare:
        for clients in (1, 16):
            floor = measure(bare.url, "/environments", {}, clients, seconds)
            ours = measure(url, "/api/environments", HEADERS, clients, seconds)
            ratio = ours.per_second / floor.per_second
            row(
                f"GET /api/environments (100 envs), {clients} client(s)",
                f"{ours.per_second:.0f}/s vs bare {floor.per_second:.0f}/s",
                ratio,
                ">= 0.6x bare",
                ratio >= 0.6 and ours.failures == 0,
            )
            p99 = ours.p99 / floor.p99
            row(
                f"  p99 at {clients} client(s)",
                f"{ours.p99 * 1000:.0f} ms vs bare {floor.p99 * 1000:.0f} ms",
                p99,
                "<= 1.5x bare",
                p99 <= 1.5,
            )
    detail = [_timed(client.get, "/api/environments/list-000")[1] for _ in range(20)]
    row(
        "GET /api/environments/{name}",
        f"p50 {statistics.median(detail) * 1000:.1f} ms",
        None,
        "(profiled, no goal)",
        None,
    )


def plans(client: httpx.Client, declared: dict[int, dict[str, float]], names: list[str]) -> None:
    """Demotes from a queued tier 1 (no worker: the plan is 1 -> 0, which deletes the
    database, so the answer is 409 confirmation_required after the full plan)."""
    _first_plans(client, names[: SIZES["rounds"]], declared, "first plan (demote 1 -> 0, uncached)")
    repeated = [
        _timed(client.post, f"/api/environments/{names[0]}/demote")[1]
        for _ in range(SIZES["plans"])
    ]
    p50 = statistics.median(repeated)
    row(
        "repeated plan of the same definition",
        f"p50 {p50 * 1000:.1f} ms (n={len(repeated)})",
        None,
        "<= 50 ms p50",
        p50 <= 0.05,
    )
    page = [
        _timed(client.get, f"/environments/{names[0]}/change", params={"kind": "demote"})[1]
        for _ in range(SIZES["rounds"])
    ]
    row("  the web plan page, repeated", f"p50 {statistics.median(page) * 1000:.1f} ms", None,
        "<= 50 ms p50", statistics.median(page) <= 0.05)  # fmt: skip
    statuses: Counter[int] = Counter()
    lock = threading.Lock()

    def demote(name: str) -> None:
        with httpx.Client(base_url=str(client.base_url), headers=HEADERS, timeout=300) as own:
            status = own.post(f"/api/environments/{name}/demote").status_code
        with lock:
            statuses[status] += 1

    threads = [threading.Thread(target=demote, args=(n,)) for n in names[SIZES["rounds"] :]]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    row(
        f"{len(threads)} concurrent uncached plans",
        f"{dict(sorted(statuses.items()))} in {elapsed:.1f} s",
        None,
        "never a 500 (409 or 503)",
        not any(status >= 500 and status != 503 for status in statuses),
    )


def first_plans_started_directly(
    client: httpx.Client, declared: dict[int, dict[str, float]], names: list[str]
) -> None:
    _first_plans(client, names, declared, "  first plan, fork server off")


def _forget_declarations(database_url: str) -> None:
    with psycopg.connect(libpq_url(database_url), autocommit=True) as connection:
        connection.execute("DELETE FROM declarations")


def _queue_at_tier_1(client: httpx.Client, names: list[str]) -> None:
    for name in names:
        client.post("/api/environments", json={"name": name, "region": "eu-west-1"})
        client.post(f"/api/environments/{name}/tier", json={"target_tier": 1})


def _first_plans(
    client: httpx.Client, names: list[str], declared: dict[int, dict[str, float]], label: str
) -> None:
    first = []
    for name in names:
        response, seconds = _timed(client.post, f"/api/environments/{name}/demote")
        assert response.status_code == 409, response.text
        first.append(seconds)
    floor = declared[1]["seconds"] + declared[0]["seconds"]
    ratio = statistics.median(first) / floor
    row(
        label,
        f"p50 {statistics.median(first) * 1000:.0f} ms vs mocks {floor * 1000:.0f} ms",
        ratio,
        "<= 1.2x declaring under mocks",
        ratio <= 1.2,
    )


def steps_started_directly(client: httpx.Client, declared: dict[int, dict[str, float]]) -> None:
    _one_step(client, declared, "direct", "  one step, fork server off", [])


def _one_step(
    client: httpx.Client,
    declared: dict[int, dict[str, float]],
    prefix: str,
    label: str,
    waits: list[float],
) -> float:
    first_deploys = []
    for index in range(SIZES["rounds"]):
        name = f"{prefix}-{index}"
        client.post("/api/environments", json={"name": name, "region": "eu-west-1"})
        _, seconds = _run(client, f"/api/environments/{name}/promote", waits)
        first_deploys.append(seconds)
    one_step = statistics.median(first_deploys)
    ratio = one_step / declared[0]["seconds"]
    row(
        label,
        f"p50 {one_step * 1000:.0f} ms vs mocks {declared[0]['seconds'] * 1000:.0f} ms",
        ratio,
        "<= 1.2x declaring under mocks",
        ratio <= 1.2,
    )
    return one_step


def steps(
    client: httpx.Client, declared: dict[int, dict[str, float]], idle_rss: float, pid: int
) -> None:
    waits: list[float] = []
    one_step = _one_step(
        client, declared, "seq", "one simulated step (first deploy, tier 0)", waits
    )
    count, slots = SIZES["deploys"], 2
    names = [f"deploy-{index:02d}" for index in range(count)]
    for name in names:
        client.post("/api/environments", json={"name": name, "region": "eu-west-1"})
    started = time.perf_counter()
    ids = [client.post(f"/api/environments/{name}/promote").json()["id"] for name in names]
    finished = [wait_finished(client, operation_id) for operation_id in ids]
    total = time.perf_counter() - started
    assert all(operation["status"] == "succeeded" for operation in finished)
    ideal = count * one_step / slots
    row(
        f"{count} first deploys over {slots} worker slots",
        f"{total:.1f} s vs {count} x {one_step:.2f} s / {slots} = {ideal:.1f} s",
        total / ideal,
        "<= 1.3x",
        total / ideal <= 1.3,
    )
    row(
        "enqueue -> running (sequential steps)",
        f"p50 {statistics.median(waits) * 1000:.0f} ms, max {max(waits) * 1000:.0f} ms",
        None,
        "p50 ~46 ms, p99 ~69 ms: keep",
        statistics.median(waits) <= 0.069,
    )
    row("serve RSS, idle after start", f"{idle_rss:.0f} MB", None, "<= 300 MB", idle_rss <= 300)
    forks = fork_server_megabytes(pid)
    together = idle_rss + forks
    row(
        "  + its fork server (shared with children)",
        f"{forks:.0f} MB, together {together:.0f} MB",
        None,
        "<= 300 MB together",
        together <= 300,
    )


def _run(client: httpx.Client, path: str, waits: list[float]) -> tuple[dict[str, Any], float]:
    started = time.perf_counter()
    operation = client.post(path).json()
    finished = wait_finished(client, operation["id"])
    seconds = time.perf_counter() - started
    assert finished["status"] == "succeeded", finished
    waits.append(_seconds_between(finished["created_at"], finished["started_at"]))
    return finished, seconds


def _seconds_between(earlier: str, later: str) -> float:
    parse = datetime.datetime.fromisoformat
    return (parse(later) - parse(earlier)).total_seconds()


def _timed(call: Any, *args: Any, **kwargs: Any) -> tuple[httpx.Response, float]:
    started = time.perf_counter()
    response = call(*args, **kwargs)
    return response, time.perf_counter() - started


if __name__ == "__main__":
    main()
