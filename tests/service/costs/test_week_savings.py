"""The schedules' week shows the money saved next to the hours: nights at tier 0 of a tier-1
definition, worked out by hand from test_hand_computed.py's EUROPE figures."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from service.app import create_app
from service.clock import Clock
from tests.conftest import make_settings
from tests.helpers import ADMIN_HEADERS, create_environment, run
from tests.service.costs.conftest import write_complete_prices
from tests.service.costs.test_hand_computed import EUROPE
from tests.service.web.form_client import Browser

MONDAY_NOON = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture
def priced_at_noon(tmp_path: Path, database_url: str, db_engine: Engine) -> Iterator[TestClient]:
    settings = make_settings(
        tmp_path, database_url, price_file=write_complete_prices(tmp_path / "prices.json")
    )
    app = create_app(settings, database_url, db_engine=db_engine, clock=Clock(MONDAY_NOON))
    with TestClient(app, headers=ADMIN_HEADERS) as client:
        yield client


def test_the_week_shows_what_nights_at_a_lower_tier_save(priced_at_noon: TestClient) -> None:
    client = priced_at_noon
    create_environment(client, "shop", **EUROPE)
    assert run(client, "/api/environments/shop/tier", target_tier=1)["status"] == "succeeded"
    for body in (
        {"name": "nights", "cron": "0 20 * * *", "action": "set_tier", "target_tier": 0,
         "confirm": "shop"},
        {"name": "mornings", "cron": "0 8 * * *", "action": "restore"},
    ):  # fmt: skip
        created = client.post("/api/environments/shop/schedules", json=body)
        assert created.status_code == 201, created.text

    browser = Browser(TestClient(client.app, base_url="https://stepladder.test"))
    page = browser.client.get("/environments/shop/schedules?estimate_week=1").text

    # Monday noon to Monday noon: seven nights of 20:00 to 08:00 UTC, 84 hours at tier 0.
    # Tier 1 costs 237.65 a month and tier 0 18.25: 219.40 less for 84 of 730 hours,
    # 219.40 x 84 / 730 = 25.2460..., so $25.25; each night 219.40 x 12 / 730 = 3.6066: $3.61.
    assert "84.0 h held by schedules" in page
    assert "Money saved over the week: <strong>$25.25</strong>" in page
    assert "against $237.65 a month at the definition" in page
    assert page.count("$18.25 a month, saves $3.61") == 7
    assert "read on 2026-11-20" in page
