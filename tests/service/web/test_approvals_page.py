"""The approvals page: admins see a count in the navigation and decide on cards; operators see
their own requests waiting, who may approve them and when they expire."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from service.app import create_app
from tests.conftest import make_settings
from tests.helpers import ADMIN_HEADERS, create_environment
from tests.service.web.form_client import Browser


@pytest.fixture
def client(tmp_path: Path, database_url: str, db_engine: Engine) -> Iterator[TestClient]:
    app = create_app(make_settings(tmp_path, database_url), database_url, db_engine=db_engine)
    with TestClient(app, base_url="https://stepladder.test") as client:
        yield client


def _token(client: TestClient, name: str, role: str) -> str:
    created = client.post("/api/tokens", json={"name": name, "role": role}, headers=ADMIN_HEADERS)
    assert created.status_code == 201, created.text
    token: str = created.json()["token"]
    return token


def test_waiting_requests_are_counted_for_admins_and_shown_to_their_requester(
    client: TestClient,
) -> None:
    olga = _token(client, "olga", "operator")
    _token(client, "ada", "admin")
    _token(client, "scoped", "admin")  # revoked below: it may not decide any more
    client.delete("/api/tokens/scoped", headers=ADMIN_HEADERS)
    create_environment(client, "prod", protected=True)
    asked = client.post(
        "/api/environments/prod/promote", headers={"Authorization": f"Bearer {olga}"}
    )
    assert asked.json()["status"] == "awaiting_approval"

    admin = Browser(client)
    navigation = admin.client.get("/").text
    assert re.search(
        r'Approvals <span class="count">1<span class="visually-hidden"> waiting', navigation
    )
    decide = admin.client.get("/approvals").text
    assert "Waiting for your decision" in decide and 'value="approve"' in decide
    assert "Promote of" in decide and "Asked by olga" in decide

    operator = Browser(TestClient(client.app, base_url="https://stepladder.test"), token=olga)
    mine = operator.client.get("/approvals")
    assert mine.status_code == 200
    assert "Waiting for your decision" not in mine.text and 'value="approve"' not in mine.text
    approvers = re.search(r"Who can approve: ([^.]*)\.", mine.text)
    assert approvers and "ada" in approvers.group(1).split(", ")
    assert "scoped" not in approvers.group(1) and "olga" not in approvers.group(1)
    assert re.search(r'expires <time datetime="[^"]+" title="[^"]+">in \d+ (hours|days)', mine.text)
    assert "of yours waiting" in mine.text  # the navigation counts the operator's own

    decided = admin.form(f"/approvals/{asked.json()['id']}", decision="reject", comment="no")
    assert decided.status_code == 303
    assert '<span class="count">' not in admin.client.get("/").text
