"""Scale figures: many queued operations over the worker's slots, and one schedule tick."""

from __future__ import annotations

import datetime
import statistics
import threading
import time

import httpx
from server import wait_finished


def queue_figures(client: httpx.Client, environments: int, operations: int) -> None:
    """`operations` promotes queued at once over `environments` (one runs at a time per
    environment), through a worker with 4 slots: throughput and time spent queued."""
    per_environment = operations // environments
    names = [f"scale-{index:03d}" for index in range(environments)]
    for name in names:
        client.post("/api/environments", json={"name": name, "region": "eu-west-1"})
    started = time.perf_counter()
    ids = [
        client.post(f"/api/environments/{name}/promote").json()["id"]
        for _ in range(per_environment)
        for name in names
    ]
    finished = [wait_finished(client, operation_id) for operation_id in ids]
    total = time.perf_counter() - started
    failed = [op for op in finished if op["status"] != "succeeded"]
    parse = datetime.datetime.fromisoformat
    waits = sorted(
        (parse(op["started_at"]) - parse(op["created_at"])).total_seconds() for op in finished
    )
    print(
        f"scale: {len(ids)} operations on {environments} environments, 4 slots: "
        f"{total:.1f} s, {len(ids) / total:.2f} ops/s, queued p50 {statistics.median(waits):.1f} s"
        f" p99 {waits[int(len(waits) * 0.99) - 1]:.1f} s, {len(failed)} not succeeded"
    )


def schedule_tick_figures(database_url: str, schedules: int, due: int) -> None:
    """`schedules` schedules of which `due` are due; two workers tick at the same instant."""
    from sqlmodel import Session, func, select

    from db.engine import create_db_engine
    from db.models import Environment, Operation, Schedule, ScheduleRun
    from service.jobs.queue import enqueue_operation
    from service.schedules.firing import fire_due_schedules

    engine = create_db_engine(database_url)
    now = datetime.datetime.now(datetime.UTC)
    later = now + datetime.timedelta(days=1)
    with Session(engine) as session:
        environments = [
            # Deployed at tier 0, so a capacity change asks for an `apply`.
            Environment(
                name=f"tick-{index:03d}", region="eu-west-1", engine="simulator", applied_tier=0
            )
            for index in range(due)
        ]
        session.add_all(environments)
        session.flush()
        # Flushed: each has its id now.
        ids = [environment.id for environment in environments if environment.id is not None]
        per_environment = schedules // due
        session.add_all(
            Schedule(
                environment_id=environment_id,
                name=f"capacity-{number}",
                cron="0 8 * * *",
                action="set_capacity",
                overrides={"web_min": 3},
                next_run_at=now - datetime.timedelta(minutes=1) if number == 0 else later,
            )
            for environment_id in ids
            for number in range(per_environment)
        )
        session.commit()
    fired: list[list[int]] = [[], []]

    def tick(worker: int) -> None:
        fired[worker] = fire_due_schedules(engine, enqueue_operation, "simulator", now)

    started = time.perf_counter()
    workers = [threading.Thread(target=tick, args=(index,)) for index in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    started = time.perf_counter()
    again = fire_due_schedules(engine, enqueue_operation, "simulator", now)
    idle = time.perf_counter() - started
    with Session(engine) as session:
        runs = session.exec(
            select(func.count()).select_from(ScheduleRun).where(ScheduleRun.outcome == "fired")
        ).one()
        operations = session.exec(select(func.count()).select_from(Operation)).one()
    exactly_once = runs == due and operations == due and not again
    print(
        f"scale: schedule tick, {schedules} schedules, {due} due, 2 workers at once: "
        f"{elapsed:.2f} s ({len(fired[0])} + {len(fired[1])} fired), idle tick {idle * 1000:.0f}"
        f" ms; {runs} runs, {operations} operations: "
        f"{'exactly once' if exactly_once else 'NOT exactly once'}"
    )
