"""A fleet at 19:00: every environment's nightly scale-down falls due in the same minute.

Not part of `make bench` (minutes per worker count): `cd bench && ../.venv/bin/python fleet.py
[--environments 1000] [--workers 1,2,4]`. Simulator engine, pacing off, so the figures are the
control plane's own cost. For each worker count, on a fresh embedded PostgreSQL:

- the API alone (`api_only.py`) and that many `stepladder worker` processes, each with its
  slots (STEPLADDER_WORKER_CONCURRENCY, 4 by default);
- one environment walked to tier 5 through the API, then copied N times in the database with
  its resources under each copy's name (deploying N environments through the API would take
  this machine most of an hour);
- one lone scale-down of the original through its schedule's "run now": the step time the
  floor is made of (N x one step / total slots);
- on each copy a `set_capacity` schedule (web_min 1, web_max 2) due at the same minute, then:
  time from the due minute until the last scale-down succeeded, operations not succeeded,
  schedule runs and operations per environment (exactly once), GET p50/p99 of one environment
  during the wave against idle, and the peak of PostgreSQL connections and queued jobs.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import psycopg
from load import Load, measure
from server import (
    BENCH_DIR,
    BENCH_TOKEN,
    HEADERS,
    LOG_DIR,
    embedded_database,
    running_server,
    wait_finished,
)

sys.path.insert(0, str(BENCH_DIR.parent))

from db.engine import libpq_url

TEMPLATE = "wave-template"
SCALE_DOWN = {"web_min": 1, "web_max": 2}
SLOTS_PER_WORKER = int(os.environ.get("STEPLADDER_WORKER_CONCURRENCY", "4"))
WAVE_TIMEOUT = 3600


@dataclass
class Peaks:
    connections: int = 0
    queued_jobs: int = 0
    running_operations: int = 0
    samples: list[tuple[float, int, int]] = field(default_factory=list)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--environments", type=int, default=100)
    parser.add_argument("--workers", default="1,2,4")
    arguments = parser.parse_args()
    now = datetime.datetime.now(datetime.UTC)
    print(
        f"# {now:%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f} "
        f"at start, {arguments.environments} environments"
    )
    for workers in (int(count) for count in arguments.workers.split(",")):
        wave(arguments.environments, workers)
    print(f"# load {os.getloadavg()[0]:.2f} at the end; logs in {LOG_DIR}")


def wave(environments: int, workers: int) -> None:
    with (
        embedded_database() as database_url,
        running_server(database_url, without_worker=True) as server,
        worker_processes(database_url, workers),
    ):
        client = server.client
        step = lone_scale_down(client)
        names = copy_template(database_url, environments)
        due = schedule_wave(client, names)
        idle = measure(server.url, f"/api/environments/{names[0]}", HEADERS, 2, 5)
        peaks = Peaks()
        stop = threading.Event()
        sampler = threading.Thread(target=sample, args=(database_url, peaks, stop))
        _sleep_until(due)
        during: list[float] = []
        failures = [0]
        readers = [
            threading.Thread(target=read_until, args=(server.url, name, during, failures, stop))
            for name in (names[0], names[-1])
        ]
        for thread in [sampler, *readers]:
            thread.start()
        finished = wait_for_wave(database_url, environments, due)
        stop.set()
        for thread in [sampler, *readers]:
            thread.join()
        during.sort()
        wave_reads = Load(
            len(during), statistics.median(during), during[int(len(during) * 0.99)], failures[0]
        )
        report(database_url, workers, environments, step, due, finished, idle, wave_reads, peaks)


@contextlib.contextmanager
def worker_processes(database_url: str, count: int) -> Iterator[None]:
    environment = {
        **os.environ,
        "STEPLADDER_DATABASE_URL": database_url,
        "STEPLADDER_LOG_LEVEL": "warning",
        "STEPLADDER_BOOTSTRAP_TOKEN": BENCH_TOKEN,
        "STEPLADDER_SIMULATOR_SECONDS_PER_RESOURCE": "0",
    }
    processes = []
    for index in range(count):
        data_dir = LOG_DIR / f"worker-{os.getpid()}-{count}-{index}"
        data_dir.mkdir(parents=True, exist_ok=True)
        log = (LOG_DIR / f"worker-{count}-{index}.log").open("w")
        processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "service.cli", "worker"],
                env={**environment, "STEPLADDER_DATA_DIR": str(data_dir)},
                stdout=log,
                stderr=log,
                cwd=BENCH_DIR.parent,
            )
        )
    try:
        yield
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=120)


def lone_scale_down(client: httpx.Client) -> float:
    """Walks the template to tier 5, then times one scale-down alone: its operation's run."""
    created = client.post("/api/environments", json={"name": TEMPLATE, "region": "eu-west-1"})
    assert created.status_code == 201, created.text
    for _ in range(6):
        operation = client.post(f"/api/environments/{TEMPLATE}/promote").json()
        assert wait_finished(client, operation["id"])["status"] == "succeeded"
    schedule = client.post(
        f"/api/environments/{TEMPLATE}/schedules",
        json={"name": "night", "cron": "0 19 * * *", "action": "set_capacity",
              "overrides": SCALE_DOWN},
    )  # fmt: skip
    assert schedule.status_code == 201, schedule.text
    run = client.post(f"/api/environments/{TEMPLATE}/schedules/{schedule.json()['id']}/run")
    assert run.status_code == 202, run.text
    operation = wait_finished(client, run.json()["operation_id"])
    assert operation["status"] == "succeeded", operation
    return _seconds(operation["started_at"], operation["finished_at"])


def copy_template(database_url: str, count: int) -> list[str]:
    """`count` copies of the template at its tier, each with the template's resources under
    its own name, as a walk to tier 5 would have left them."""
    names = [f"wave-{index:05d}" for index in range(count)]
    with psycopg.connect(libpq_url(database_url)) as connection:
        columns = [
            row[0]
            for row in connection.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_name = 'environments' AND column_name NOT IN ('id', 'name')"
            )
        ]
        listed = ", ".join(columns)
        [template_id] = connection.execute(
            "SELECT id FROM environments WHERE name = %s", (TEMPLATE,)
        ).fetchone() or (None,)
        resources = connection.execute(
            "SELECT position, urn, type, name, parent, custom, cloud_id, inputs::text,"
            " outputs::text, protect FROM resources WHERE environment_id = %s",
            (template_id,),
        ).fetchall()
        for name in names:
            [new_id] = connection.execute(
                f"INSERT INTO environments (name, {listed}) SELECT %s, {listed} "
                "FROM environments WHERE id = %s RETURNING id",
                (name, template_id),
            ).fetchone() or (None,)
            with connection.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO resources (environment_id, position, urn, type, name, parent,"
                    " custom, cloud_id, inputs, outputs, protect)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    [(new_id, *_renamed(row, name)) for row in resources],
                )
    return names


def _renamed(row: tuple[Any, ...], name: str) -> tuple[Any, ...]:
    return tuple(
        value.replace(TEMPLATE, name) if isinstance(value, str) else value for value in row
    )


def schedule_wave(client: httpx.Client, names: list[str]) -> datetime.datetime:
    """A scale-down schedule on every copy, all due at the first minute after they exist."""
    started = time.monotonic()
    # Creating a schedule takes a few tens of milliseconds, the idle reads 5 s: the first minute
    # that leaves time for both.
    lead = datetime.timedelta(seconds=15 + len(names) * 0.1)
    due = (datetime.datetime.now(datetime.UTC) + lead).replace(second=0, microsecond=0)
    due += datetime.timedelta(minutes=1)
    body = {"name": "night", "cron": f"{due.minute} {due.hour} * * *",
            "action": "set_capacity", "overrides": SCALE_DOWN}  # fmt: skip
    for name in names:
        created = client.post(f"/api/environments/{name}/schedules", json=body)
        assert created.status_code == 201, created.text
    print(f"  {len(names)} schedules made in {time.monotonic() - started:.0f} s, due {due:%H:%M}")
    return due


def read_until(
    url: str, name: str, latencies: list[float], failures: list[int], stop: threading.Event
) -> None:
    """One client reading an environment, each request sent when the last one answered."""
    with httpx.Client(base_url=url, headers=HEADERS, timeout=120) as client:
        while not stop.is_set():
            started = time.perf_counter()
            status = client.get(f"/api/environments/{name}").status_code
            latencies.append(time.perf_counter() - started)
            failures[0] += status != 200


def sample(database_url: str, peaks: Peaks, stop: threading.Event) -> None:
    with psycopg.connect(libpq_url(database_url), autocommit=True) as connection:
        while not stop.is_set():
            connections, queued, running = connection.execute(
                "SELECT (SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()),"
                " (SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing')),"
                " (SELECT count(*) FROM operations WHERE status = 'running')"
            ).fetchone() or (0, 0, 0)
            peaks.connections = max(peaks.connections, connections)
            peaks.queued_jobs = max(peaks.queued_jobs, queued)
            peaks.running_operations = max(peaks.running_operations, running)
            peaks.samples.append((time.time(), queued, running))
            stop.wait(0.5)


def wait_for_wave(database_url: str, count: int, due: datetime.datetime) -> list[Any]:
    """The wave's operations (requested at or after the due minute), once all have finished."""
    deadline = time.monotonic() + WAVE_TIMEOUT
    with psycopg.connect(libpq_url(database_url), autocommit=True) as connection:
        while True:
            rows = connection.execute(
                "SELECT o.id, e.name, o.status, o.created_at, o.started_at, o.finished_at "
                "FROM operations o JOIN environments e ON e.id = o.environment_id "
                "WHERE o.created_at >= %s AND e.name <> %s",
                (due, TEMPLATE),
            ).fetchall()
            finished = [row for row in rows if row[5] is not None]
            if len(finished) >= count or time.monotonic() > deadline:
                return rows
            time.sleep(1)


def report(
    database_url: str,
    workers: int,
    count: int,
    step: float,
    due: datetime.datetime,
    operations: list[Any],
    idle: Load,
    during: Load,
    peaks: Peaks,
) -> None:
    slots = workers * SLOTS_PER_WORKER
    succeeded = [row for row in operations if row[2] == "succeeded"]
    last = max((row[5] for row in succeeded), default=due)
    wave_seconds = (last - due).total_seconds()
    floor = count * step / slots
    per_environment: dict[str, int] = {}
    for row in operations:
        per_environment[row[1]] = per_environment.get(row[1], 0) + 1
    with psycopg.connect(libpq_url(database_url)) as connection:
        runs = connection.execute(
            "SELECT count(*), count(DISTINCT schedule_id) FROM schedule_runs "
            "WHERE outcome = 'fired'"
        ).fetchone() or (0, 0)
        rows = {
            table: (connection.execute(f"SELECT count(*) FROM {table}").fetchone() or (0,))[0]
            for table in ("operations", "operation_events", "procrastinate_jobs", "resources")
        }
    fired = sorted(row[3] for row in operations)
    firing = (fired[-1] - due).total_seconds() if fired else float("nan")
    first_fired = (fired[0] - due).total_seconds() if fired else float("nan")
    running = sorted(_seconds(str(row[4]), str(row[5])) for row in succeeded if row[4])
    print(
        f"fleet: {count} scale-downs, {workers} worker(s) x {SLOTS_PER_WORKER} slots: "
        f"{wave_seconds:.1f} s from the due minute to the last success vs floor "
        f"{count} x {step:.2f} s / {slots} = {floor:.1f} s: {wave_seconds / floor:.2f}x"
    )
    print(
        f"  not succeeded {count - len(succeeded)}; schedule runs fired {runs[0]} for "
        f"{runs[1]} schedules (the template's run-now included); environments with more than "
        f"one operation {sum(1 for n in per_environment.values() if n > 1)}"
    )
    print(
        f"  operations requested from {first_fired:.1f} s to {firing:.1f} s after the due minute"
        f" (the schedule tick: {firing - first_fired:.1f} s for {len(fired)}); each step ran p50 "
        f"{statistics.median(running) if running else float('nan'):.2f} s, max "
        f"{running[-1] if running else float('nan'):.2f} s"
    )
    print(
        f"  GET /api/environments/{{name}}: idle p50 {idle.p50 * 1000:.0f} ms p99 "
        f"{idle.p99 * 1000:.0f} ms; during the wave p50 {during.p50 * 1000:.0f} ms p99 "
        f"{during.p99 * 1000:.0f} ms ({during.p99 / idle.p99:.2f}x idle); failed GETs "
        f"{idle.failures + during.failures}"
    )
    print(
        f"  PostgreSQL at the peak: {peaks.connections} connections, {peaks.queued_jobs} jobs "
        f"queued or running, {peaks.running_operations} operations running; rows after: "
        f"{json.dumps(rows)}"
    )


def _seconds(start: str, end: str) -> float:
    parse = datetime.datetime.fromisoformat
    return (parse(str(end)) - parse(str(start))).total_seconds()


def _sleep_until(moment: datetime.datetime) -> None:
    time.sleep(max(0.0, (moment - datetime.datetime.now(datetime.UTC)).total_seconds()))


if __name__ == "__main__":
    main()
