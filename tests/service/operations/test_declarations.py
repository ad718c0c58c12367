"""Plans come from declarations cached in PostgreSQL, computed before any lock is taken, and a
burst of uncached plans is refused with 503 and Retry-After instead of piling up."""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from typing import Any

import psycopg
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event

from db.engine import libpq_url
from service.engines.model import ResourceState
from service.operations.declarations import QUEUE, RecentDeclarations
from tests.helpers import create_environment

# Every declaration child this process starts, seen by an audit hook: Python's own on Popen
# (started directly) or the fork server client's (forked), raised before the child exists.
DECLARATION_CHILDREN: list[int] = []


def _count_declaration_children(event: str, args: tuple[Any, ...]) -> None:
    started = event == "subprocess.Popen" and "service.engines.declare" in map(str, args[1])
    forked = event == "stepladder.fork_engine" and args == ("declare",)
    if started or forked:
        DECLARATION_CHILDREN.append(1)


sys.addaudithook(_count_declaration_children)


def _queued_at_tier_1(client: TestClient, name: str) -> None:
    """With no worker, queued moves are what the next request plans from: tier 1 here."""
    create_environment(client, name)
    assert client.post(f"/api/environments/{name}/tier", json={"target_tier": 1}).status_code == 202


def _declarations(database_url: str) -> int:
    with psycopg.connect(libpq_url(database_url)) as connection:
        row = connection.execute("SELECT count(*) FROM declarations").fetchone()
    assert row is not None
    return int(row[0])


def test_a_repeated_plan_starts_no_child_process(idle_client: TestClient) -> None:
    before = len(DECLARATION_CHILDREN)
    # The move up is planned (and priced) too: it declares tiers 0 and 1 in a child.
    _queued_at_tier_1(idle_client, "plan-once")
    after_first = len(DECLARATION_CHILDREN)

    first = idle_client.post("/api/environments/plan-once/demote")
    again = idle_client.post("/api/environments/plan-once/demote")
    page = idle_client.get("/environments/plan-once/change", params={"kind": "demote"})

    assert first.status_code == 409 and first.json()["error"] == "confirmation_required"
    assert after_first > before  # the first plan declared tiers 0 and 1 in a child
    assert again.json()["data_loss"] == first.json()["data_loss"]
    assert page.status_code == 200 and "plan-once-aurora-cluster" in page.text
    assert len(DECLARATION_CHILDREN) == after_first


def test_planning_needs_no_lock_on_the_environment(
    idle_client: TestClient, database_url: str
) -> None:
    create_environment(idle_client, "plan-unlocked")
    before = _declarations(database_url)
    answers: list[int] = []

    with psycopg.connect(libpq_url(database_url)) as holder:
        holder.execute("SELECT 1 FROM environments WHERE name = 'plan-unlocked' FOR UPDATE")
        request = threading.Thread(
            target=lambda: answers.append(
                idle_client.post(
                    "/api/environments/plan-unlocked/tier", json={"target_tier": 1}
                ).status_code
            )
        )
        request.start()
        deadline = time.monotonic() + 300
        while _declarations(database_url) == before and time.monotonic() < deadline:
            time.sleep(0.2)
        planned_while_locked = _declarations(database_url) > before
        still_waiting = request.is_alive()
        holder.rollback()  # the lock goes; the request takes it and answers
    request.join(timeout=300)

    assert planned_while_locked  # the plan was made while another transaction held the row
    assert still_waiting  # and the request then waited for the row, as it must, to record it
    assert answers == [202]  # planned (and priced) unlocked, recorded under the lock


def test_a_full_declaration_queue_answers_503_with_retry_after(idle_client: TestClient) -> None:
    create_environment(idle_client, "plan-busy")
    started = len(DECLARATION_CHILDREN)

    with contextlib.ExitStack() as queue_full:
        for _ in range(QUEUE.capacity):
            queue_full.enter_context(QUEUE.admit())
        busy = idle_client.post("/api/environments/plan-busy/tier", json={"target_tier": 1})
        page = idle_client.get(
            "/environments/plan-busy/change", params={"kind": "set_tier", "target_tier": 1}
        )

    assert busy.status_code == 503
    assert busy.json()["error"] == "unavailable"
    assert int(busy.headers["Retry-After"]) > 0
    assert page.status_code == 503 and "retry" in page.text.lower()
    assert len(DECLARATION_CHILDREN) == started
    operations = idle_client.get("/api/environments/plan-busy/operations").json()
    assert operations == []
    # Room again: the same request is planned and answered.
    again = idle_client.post("/api/environments/plan-busy/tier", json={"target_tier": 1})
    assert again.status_code == 202


def test_a_repeated_plan_reads_its_declarations_from_memory(
    idle_client: TestClient, db_engine: Engine
) -> None:
    _queued_at_tier_1(idle_client, "plan-remembered")
    assert idle_client.post("/api/environments/plan-remembered/demote").status_code == 409
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(db_engine, "before_cursor_execute", seen)
    try:
        again = idle_client.post("/api/environments/plan-remembered/demote")
        page = idle_client.get("/environments/plan-remembered/change", params={"kind": "demote"})
    finally:
        event.remove(db_engine, "before_cursor_execute", seen)

    assert again.status_code == 409 and again.json()["error"] == "confirmation_required"
    assert page.status_code == 200 and "plan-remembered-aurora-cluster" in page.text
    assert statements  # the requests did query: environments, operations, audit
    assert not [statement for statement in statements if "declarations" in statement]


def test_memory_keeps_the_most_recently_used_declarations() -> None:
    recent = RecentDeclarations(2)
    one, two, three = ("a", 0), ("b", 0), ("c", 0)
    resources = [ResourceState(urn="urn:x", type="t", name="x")]

    recent.remember({one: resources, two: resources})
    assert recent.recall({one}) == {one: resources}  # one is now the most recent
    recent.remember({three: resources})

    assert set(recent.recall({one, two, three})) == {one, three}
