"""Cost on the web form: the environment's monthly estimate, and a plan's difference."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from service.app import create_app
from tests.conftest import make_settings
from tests.helpers import ADMIN_HEADERS, wait_for_operation
from tests.service.web.form_client import Browser


@pytest.fixture
def web(tmp_path: Path, database_url: str, db_engine: Engine) -> Iterator[Browser]:
    app = create_app(make_settings(tmp_path, database_url), database_url, db_engine=db_engine)
    with TestClient(app, base_url="https://stepladder.test") as client:
        yield Browser(client)


def test_the_page_shows_the_estimate_and_a_plan_its_difference(web: Browser) -> None:
    web.form("/environments", name="shop", region="us-east-1")
    assert "Monthly estimate" not in web.client.get("/environments/shop").text  # not deployed
    asked = web.client.post(
        "/api/environments/shop/tier", json={"target_tier": 1}, headers=ADMIN_HEADERS
    )
    assert asked.status_code == 202, asked.text

    class Api:
        def get(self, path: str) -> object:
            return web.client.get(path, headers=ADMIN_HEADERS)

    assert wait_for_operation(Api(), asked.json()["id"])["status"] == "succeeded"

    page = web.client.get("/environments/shop").text
    # Tier 1 by hand: one t3.small ($0.0208/h) and one public IPv4 ($0.005/h), 730 hours;
    # the Aurora writer has no shipped price, and the page says so.
    assert "$18.83 a month" in page
    assert "not counting 1 resource(s) with no price" in page
    assert "rds:aurora-mysql:db.t4g.medium" in page
    plan = web.client.get("/environments/shop/change?kind=promote").text
    # Tier 2 adds the ALB ($0.0225/h) and a second t3.small, loses the address: 46.79.
    assert "from $18.83 to $46.79 a month" in plan
    assert "+$27.96 a month" in plan and "counting only the resources with a price" in plan
