"""Every move's plan carries the monthly estimate before and after and the difference: the
API's answer to promote, set-tier, preview and demote, the operation read back later, and an
approval request (API and page). Figures from test_hand_computed.py's EUROPE, by hand."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient

from tests.helpers import ADMIN_HEADERS, create_environment, wait_for_operation
from tests.service.costs.test_hand_computed import EUROPE
from tests.service.web.form_client import Browser


def _usd(value: Any) -> Decimal:
    return Decimal(str(value))


def _asked(client: TestClient, path: str, **body: Any) -> dict[str, Any]:
    response = client.post(path, json=body or None)
    assert response.status_code == 202, response.text
    answer: dict[str, Any] = response.json()
    return answer


def test_each_move_answers_with_its_estimate_before_and_after(fully_priced: TestClient) -> None:
    create_environment(fully_priced, "shop", **EUROPE)

    first = _asked(fully_priced, "/api/environments/shop/promote")
    # From nothing to tier 0: the box and its address, 18.25 a month.
    assert (first["cost"]["from_tier"], first["cost"]["to_tier"]) == (None, 0)
    assert first["cost"]["before"] is None
    assert _usd(first["cost"]["after"]["monthly_usd"]) == Decimal("18.25")
    assert _usd(first["cost"]["difference_usd"]) == Decimal("18.25")
    assert first["cost"]["complete"] is True
    assert "read on 2026-11-20" in first["cost"]["after"]["label"]
    assert wait_for_operation(fully_priced, first["id"])["status"] == "succeeded"

    up = _asked(fully_priced, "/api/environments/shop/tier", target_tier=3)
    # Tier 0 to 3: 708.90 - 18.25 = 690.65 more a month.
    assert _usd(up["cost"]["before"]["monthly_usd"]) == Decimal("18.25")
    assert _usd(up["cost"]["after"]["monthly_usd"]) == Decimal("708.90")
    assert _usd(up["cost"]["difference_usd"]) == Decimal("690.65")
    done = wait_for_operation(fully_priced, up["id"])
    assert done["status"] == "succeeded"
    assert done["cost"] == up["cost"]  # kept with the operation, not priced again on a read

    preview = _asked(fully_priced, "/api/environments/shop/preview", target_tier=5)
    # Tier 3 to 5: 770.90 - 708.90 = 62.00 more.
    assert (preview["cost"]["from_tier"], preview["cost"]["to_tier"]) == (3, 5)
    assert _usd(preview["cost"]["difference_usd"]) == Decimal("62.00")
    wait_for_operation(fully_priced, preview["id"])

    down = _asked(fully_priced, "/api/environments/shop/demote", confirm="shop")
    # Tier 3 to 2: one reader and the CDN origin's secret go, 489.50 - 708.90 = -219.40.
    assert _usd(down["cost"]["difference_usd"]) == Decimal("-219.40")
    wait_for_operation(fully_priced, down["id"])


def test_an_approval_request_shows_the_cost_of_what_is_approved(fully_priced: TestClient) -> None:
    created = fully_priced.post("/api/tokens", json={"name": "olga", "role": "operator"})
    olga = {"Authorization": f"Bearer {created.json()['token']}"}
    fully_priced.post("/api/tokens", json={"name": "ada", "role": "admin"})
    create_environment(fully_priced, "prod", protected=True, **EUROPE)

    asked = fully_priced.post("/api/environments/prod/promote", headers=olga).json()

    assert asked["status"] == "awaiting_approval"
    waiting = fully_priced.get("/api/approvals", headers=ADMIN_HEADERS).json()
    assert [_usd(item["cost"]["difference_usd"]) for item in waiting] == [Decimal("18.25")]
    assert waiting[0]["plan"]["cost"] == waiting[0]["cost"]
    page = Browser(TestClient(fully_priced.app, base_url="https://stepladder.test"))
    shown = page.client.get("/approvals").text
    assert "from $0.00 to $18.25 a month" in shown and "+$18.25 a month" in shown
    assert "fixed capacity at the definition&#39;s knobs" in shown


def test_a_schedules_move_carries_its_estimate(fully_priced: TestClient) -> None:
    create_environment(fully_priced, "shop", **EUROPE)
    at_2 = _asked(fully_priced, "/api/environments/shop/tier", target_tier=2)
    assert wait_for_operation(fully_priced, at_2["id"])["status"] == "succeeded"
    mornings = {
        "name": "mornings",
        "cron": "0 7 * * 1-5",
        "timezone": "UTC",
        "action": "set_tier",
        "target_tier": 3,
    }
    schedule = fully_priced.post("/api/environments/shop/schedules", json=mornings).json()

    fired = fully_priced.post(f"/api/environments/shop/schedules/{schedule['id']}/run")

    assert fired.status_code == 202, fired.text
    operation_id = fired.json()["operation_id"]
    operation = fully_priced.get(f"/api/operations/{operation_id}").json()
    assert operation["requested_by"] == "schedule:mornings"
    # Tier 2 to 3: 708.90 - 489.50 = 219.40 more a month, as a person's set-tier would show.
    assert _usd(operation["cost"]["before"]["monthly_usd"]) == Decimal("489.50")
    assert _usd(operation["cost"]["difference_usd"]) == Decimal("219.40")
    assert wait_for_operation(fully_priced, operation_id)["status"] == "succeeded"
