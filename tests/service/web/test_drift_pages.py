"""Drift on the web form: the environment's page shows its status and what drifted, the check
and the reconcile go through the change flow, and a reconcile says what it will do."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from service.app import create_app
from tests.conftest import make_settings
from tests.helpers import ADMIN_HEADERS, wait_for_operation
from tests.service.web.form_client import Browser, hidden


@pytest.fixture
def web(tmp_path: Path, database_url: str, db_engine: Engine) -> Iterator[Browser]:
    app = create_app(make_settings(tmp_path, database_url), database_url, db_engine=db_engine)
    with TestClient(app, base_url="https://stepladder.test") as client:
        yield Browser(client)


class _Api:
    def __init__(self, client: TestClient) -> None:
        self.client = client

    def get(self, path: str) -> object:
        return self.client.get(path, headers=ADMIN_HEADERS)


def change(web: Browser, kind: str) -> dict[str, object]:
    """Open the change's page, confirm it as a person would, wait for the operation."""
    page = web.client.get(f"/environments/shop/change?kind={kind}")
    assert page.status_code == 200, page.text
    sent = web.form(
        "/environments/shop/change", kind=kind, idempotency_key=hidden(page.text, "idempotency_key")
    )
    assert sent.status_code == 303, sent.text
    operation_id = int(sent.headers["location"].split("?")[0].rsplit("/", 1)[1])
    return wait_for_operation(_Api(web.client), operation_id)


def test_a_drift_is_shown_and_reconciled_from_the_page(web: Browser) -> None:
    web.form("/environments", name="shop", region="eu-west-1")
    assert change(web, "promote")["status"] == "succeeded"
    page = web.client.get("/environments/shop").text
    assert "Never checked" in page and "Check drift" in page
    assert "Reconcile" not in page  # nothing known to reconcile
    [instance] = [
        resource
        for resource in web.client.get(
            "/api/environments/shop/resources", headers=ADMIN_HEADERS
        ).json()
        if resource["type"] == "aws:ec2/instance:Instance"
    ]
    web.client.post(
        "/api/environments/shop/simulator/out-of-band-change",
        json={"resource": instance["name"], "properties": {"instanceType": "m5.large"}},
        headers=ADMIN_HEADERS,
    )

    assert change(web, "drift_check")["status"] == "succeeded"

    page = web.client.get("/environments/shop").text
    assert 'class="badge drift-drifted"' in page
    assert instance["name"] in page and "differs in instanceType" in page
    assert "Simulated" in page  # never passed off as real AWS
    reconcile_page = web.client.get("/environments/shop/change?kind=reconcile").text
    assert "up --refresh" in reconcile_page and "differs in instanceType" in reconcile_page
    assert change(web, "reconcile")["status"] == "succeeded"
    assert change(web, "drift_check")["status"] == "succeeded"
    page = web.client.get("/environments/shop").text
    assert 'class="badge drift-in_sync"' in page and "badge drift-drifted" not in page
