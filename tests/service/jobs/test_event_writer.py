"""The worker writes an operation's events in batches: in order, gap-free, without holding any
back, and a failed write is never silent."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from service.jobs.event_writer import EventWriter
from tests.helpers import create_environment, run


def _queued_operation(idle_client: TestClient) -> int:
    create_environment(idle_client, "shop")
    response = idle_client.post("/api/environments/shop/promote")
    assert response.status_code == 202
    operation_id: int = response.json()["id"]
    return operation_id


def _stored(db_engine: Engine, operation_id: int) -> list[tuple[int, str, str]]:
    """(seq, message, id of the transaction that inserted it) in seq order."""
    with db_engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT seq, message, xmin::text FROM operation_events "
                "WHERE operation_id = :id ORDER BY seq"
            ),
            {"id": operation_id},
        )
        return [(row[0], row[1], row[2]) for row in rows]


def test_a_burst_of_events_is_stored_in_order_gap_free_in_one_transaction(
    idle_client: TestClient, db_engine: Engine
) -> None:
    operation_id = _queued_operation(idle_client)

    async def burst() -> None:
        writer = EventWriter(db_engine, operation_id)
        for number in range(50):
            writer.add({"type": "diagnostic", "message": f"event {number}"})
        await writer.flush()

    asyncio.run(burst())

    stored = _stored(db_engine, operation_id)
    assert [seq for seq, _, _ in stored] == list(range(1, 51))
    assert [message for _, message, _ in stored] == [f"event {n}" for n in range(50)]
    assert len({transaction for _, _, transaction in stored}) == 1


def test_events_arriving_during_a_write_follow_it_in_the_next_transaction(
    idle_client: TestClient, db_engine: Engine
) -> None:
    operation_id = _queued_operation(idle_client)

    async def two_bursts() -> None:
        writer = EventWriter(db_engine, operation_id)
        writer.add({"type": "diagnostic", "message": "first"})
        await asyncio.sleep(0)  # the write of "first" starts: it does not wait for company
        for number in range(10):
            writer.add({"type": "diagnostic", "message": f"later {number}"})
        await writer.flush()

    asyncio.run(two_bursts())

    stored = _stored(db_engine, operation_id)
    assert [seq for seq, _, _ in stored] == list(range(1, 12))
    assert [message for _, message, _ in stored] == ["first"] + [f"later {n}" for n in range(10)]
    first_transaction = stored[0][2]
    assert {transaction for _, _, transaction in stored[1:]} != {first_transaction}
    assert len({transaction for _, _, transaction in stored[1:]}) == 1


def test_an_event_is_stored_without_a_flush_or_a_later_event(
    idle_client: TestClient, db_engine: Engine
) -> None:
    """What keeps the SSE stream live: nothing waits for a batch to fill or a step to end."""
    operation_id = _queued_operation(idle_client)

    async def one_event_then_wait() -> list[tuple[int, str, str]]:
        writer = EventWriter(db_engine, operation_id)
        writer.add({"type": "diagnostic", "message": "alone"})
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            stored = await asyncio.to_thread(_stored, db_engine, operation_id)
            if stored:
                return stored
            await asyncio.sleep(0.01)
        return []

    stored = asyncio.run(one_event_then_wait())

    assert [(seq, message) for seq, message, _ in stored] == [(1, "alone")]


def test_a_failed_write_is_raised_by_the_next_flush_and_add(db_engine: Engine) -> None:
    async def write_to_a_missing_operation() -> None:
        writer = EventWriter(db_engine, 987654)
        writer.add({"type": "diagnostic", "message": "lost?"})
        with pytest.raises(IntegrityError):
            await writer.flush()
        with pytest.raises(IntegrityError):
            writer.add({"type": "diagnostic", "message": "after the failure"})

    asyncio.run(write_to_a_missing_operation())


def test_each_steps_events_come_between_its_start_and_its_completion(client: TestClient) -> None:
    create_environment(client, "shop")

    done = run(client, "/api/environments/shop/tier", target_tier=2)

    assert done["status"] == "succeeded"
    events = client.get(f"/api/operations/{done['id']}/events?format=json").json()
    assert [event["seq"] for event in events] == list(range(1, len(events) + 1))
    kinds = [event["type"] for event in events]
    assert kinds[0] == "operation_started" and kinds[-1] == "operation_finished"
    # Between one step's completion and the next, exactly one step starts and sums up.
    boundaries = [0] + [i for i, kind in enumerate(kinds) if kind == "step_completed"]
    assert len(boundaries) == 4  # tiers 0, 1, 2
    for start, end in itertools.pairwise(boundaries):
        step = kinds[start + 1 : end]
        assert step.count("step_started") == 1 and step[0] == "step_started"
        assert step.count("summary") == 1 and "resource_pre" in step
    tiers = [event["data"]["tier"] for event in events if event["type"] == "step_completed"]
    assert tiers == [0, 1, 2]
