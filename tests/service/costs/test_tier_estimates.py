"""/api/tiers and the web ladder show each tier's monthly estimate for one definition."""

from __future__ import annotations

from decimal import Decimal

from fastapi.testclient import TestClient

from tests.helpers import create_environment
from tests.service.costs.test_hand_computed import EUROPE, EUROPE_BY_HAND
from tests.service.web.form_client import Browser


def test_the_ladder_prices_each_tier_for_the_named_definition(fully_priced: TestClient) -> None:
    create_environment(fully_priced, "shop", **EUROPE)

    tiers = fully_priced.get("/api/tiers", params={"environment": "shop"}).json()

    assert {tier["level"]: Decimal(str(tier["estimate"]["monthly_usd"])) for tier in tiers} == {
        level: Decimal(figure) for level, figure in EUROPE_BY_HAND.items()
    }
    assert all("read on 2026-11-20" in tier["estimate"]["label"] for tier in tiers)
    plain = fully_priced.get("/api/tiers").json()
    assert [tier["estimate"] for tier in plain] == [None] * 8
    unknown = fully_priced.get("/api/tiers", params={"environment": "nowhere"})
    assert unknown.status_code == 404

    browser = Browser(TestClient(fully_priced.app, base_url="https://stepladder.test"))
    ladder = browser.client.get("/environments/shop").text
    # Declared above, so the page shows every tier's figure without declaring anything.
    assert "Estimate at this tier: <strong>$18.25 a month</strong>" in ladder
    assert "Estimate at this tier: <strong>$1041.70 a month</strong>" in ladder


def test_the_page_never_declares_unasked_and_works_the_ladder_out_when_asked(
    fully_priced: TestClient,
) -> None:
    create_environment(fully_priced, "fresh", **EUROPE, web_min=3)
    browser = Browser(TestClient(fully_priced.app, base_url="https://stepladder.test"))

    page = browser.client.get("/environments/fresh").text
    assert page.count("work out every tier's") == 8
    assert "Estimate at this tier" not in page

    asked = browser.client.get("/environments/fresh?estimate_tiers=1").text
    # Tier 5 with web_min 3: 770.90 + a third t3.small 14.60 = 785.50.
    assert "Estimate at this tier: <strong>$785.50 a month</strong>" in asked
