"""Clients that connect from an address of the test's choosing, to a service with the test's
settings: the throttle and the proxy trust are about who connects."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from service.app import create_app
from service.clock import Clock
from tests.conftest import make_settings
from tests.helpers import ADMIN_HEADERS

MakeClient = Callable[..., TestClient]
ADMIN_ELSEWHERE = ("192.0.2.1", 40000)


@pytest.fixture
def make_client(
    tmp_path: Path, database_url: str, db_engine: Engine, clock: Clock
) -> Iterator[MakeClient]:
    """`make_client(client=(address, port), base_url=..., **settings)`: a browser without
    credentials, to a service of its own on the test's database; with `of=another_client`,
    to the same service (its metrics are that process's) from another address."""
    clients: list[TestClient] = []

    def make(
        *,
        client: tuple[str, int] = ("198.51.100.20", 40000),
        base_url: str = "http://stepladder.test",
        of: TestClient | None = None,
        **settings: object,
    ) -> TestClient:
        if of is not None:  # already started, by `of`
            return TestClient(of.app, base_url=base_url, client=client)
        app = create_app(
            make_settings(tmp_path, database_url, **settings),
            database_url,
            db_engine=db_engine,
            run_worker_in_process=False,
            clock=clock,
        )
        test_client = TestClient(app, base_url=base_url, client=client)
        clients.append(test_client.__enter__())
        return test_client

    yield make
    for test_client in clients:
        test_client.__exit__(None, None, None)


def audit_records(make_client: MakeClient) -> list[dict[str, Any]]:
    """The audit log, read by the admin from an address no test throttles."""
    admin = make_client(client=ADMIN_ELSEWHERE)
    records: list[dict[str, Any]] = admin.get("/api/audit", headers=ADMIN_HEADERS).json()
    return records
