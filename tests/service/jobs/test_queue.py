"""What the job table says about operations: the queries recovery acts on."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from db.engine import session_scope
from service.jobs.queue import (
    environment_lock,
    environments_with_unscheduled_queue,
    orphaned_running_operations,
)
from tests.helpers import create_environment


def test_a_queued_operation_whose_job_is_gone_is_found_and_one_with_its_job_is_not(
    idle_client: TestClient, db_engine: Engine
) -> None:
    create_environment(idle_client, "shop")
    create_environment(idle_client, "blog")
    assert idle_client.post("/api/environments/shop/promote").status_code == 202
    assert idle_client.post("/api/environments/blog/promote").status_code == 202

    with session_scope(db_engine) as session:
        assert environments_with_unscheduled_queue(session) == []
        session.execute(
            text("DELETE FROM procrastinate_jobs WHERE lock = :lock"),
            {"lock": environment_lock("shop")},
        )
        shop_id = session.execute(text("SELECT id FROM environments WHERE name = 'shop'")).one()[0]

    with session_scope(db_engine) as session:
        assert environments_with_unscheduled_queue(session) == [(shop_id, "shop")]


def test_a_running_operation_whose_job_no_worker_is_doing_is_orphaned(
    idle_client: TestClient, db_engine: Engine
) -> None:
    create_environment(idle_client, "shop")
    operation_id = idle_client.post("/api/environments/shop/promote").json()["id"]

    with session_scope(db_engine) as session:
        # Marked running by a worker that died before procrastinate saw it take the job.
        session.execute(
            text(
                "UPDATE operations SET status = 'running', "
                "job_id = (SELECT id FROM procrastinate_jobs WHERE lock = :lock)"
            ),
            {"lock": environment_lock("shop")},
        )
    with session_scope(db_engine) as session:
        assert orphaned_running_operations(session) == [operation_id]
        session.execute(text("UPDATE procrastinate_jobs SET status = 'doing'"))
    with session_scope(db_engine) as session:
        assert orphaned_running_operations(session) == []
