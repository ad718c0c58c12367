"""An expiry on the definition, through the API: each rule refused with the field named."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from service.clock import Clock
from tests.helpers import create_environment


def at(clock: Clock, **delta: float) -> str:
    return (clock.now() + timedelta(**delta)).isoformat()


def refusal(response: Any, status: int, error: str, field: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error, body
    assert [item["field"] for item in body["fields"]] == [field], body
    assert body["detail"].startswith(f"{field}: "), body


def test_setting_an_expiry_needs_the_name_typed_again(
    idle_client: TestClient, clock: Clock
) -> None:
    create_environment(idle_client, "shop")
    expires = at(clock, hours=5)

    unconfirmed = idle_client.patch("/api/environments/shop", json={"expires_at": expires})
    mistyped = idle_client.patch(
        "/api/environments/shop", json={"expires_at": expires, "confirm": "shp"}
    )
    confirmed = idle_client.patch(
        "/api/environments/shop", json={"expires_at": expires, "confirm": "shop"}
    )

    refusal(unconfirmed, 409, "confirmation_required", "expires_at")
    assert '"confirm": "shop"' in unconfirmed.json()["detail"]
    refusal(mistyped, 409, "confirmation_required", "expires_at")
    assert confirmed.status_code == 200, confirmed.text
    assert datetime.fromisoformat(confirmed.json()["expires_at"]) == datetime.fromisoformat(expires)
    assert idle_client.get("/api/environments/shop").json()["expires_at"] is not None


def test_moving_it_later_or_clearing_it_asks_nothing_moving_it_earlier_does(
    idle_client: TestClient, clock: Clock
) -> None:
    create_environment(idle_client, "shop", expires_at=at(clock, hours=5), confirm="shop")

    later = idle_client.patch("/api/environments/shop", json={"expires_at": at(clock, hours=9)})
    earlier = idle_client.patch("/api/environments/shop", json={"expires_at": at(clock, hours=2)})
    cleared = idle_client.patch("/api/environments/shop", json={"expires_at": None})

    assert later.status_code == 200, later.text
    refusal(earlier, 409, "confirmation_required", "expires_at")
    assert cleared.status_code == 200 and cleared.json()["expires_at"] is None


def test_an_expiry_must_be_in_the_future_and_name_its_zone(
    idle_client: TestClient, clock: Clock
) -> None:
    create_environment(idle_client, "shop")

    past = idle_client.patch(
        "/api/environments/shop", json={"expires_at": at(clock, minutes=-1), "confirm": "shop"}
    )
    naive = idle_client.patch(
        "/api/environments/shop",
        json={"expires_at": "2030-01-01T12:00:00", "confirm": "shop"},
    )
    created_past = idle_client.post(
        "/api/environments",
        json={"name": "blog", "expires_at": at(clock, hours=-3), "confirm": "blog"},
    )

    refusal(past, 422, "validation_failed", "expires_at")
    assert "must be in the future" in past.json()["detail"]
    refusal(naive, 422, "validation_failed", "expires_at")
    assert "time zone" in naive.json()["detail"]
    refusal(created_past, 422, "validation_failed", "expires_at")


def test_a_protected_environment_cannot_expire_in_either_order(
    idle_client: TestClient, clock: Clock
) -> None:
    create_environment(idle_client, "prod", protected=True)
    create_environment(idle_client, "shop", expires_at=at(clock, hours=5), confirm="shop")

    expiring_protected = idle_client.patch(
        "/api/environments/prod", json={"expires_at": at(clock, hours=5), "confirm": "prod"}
    )
    protecting_expiring = idle_client.patch("/api/environments/shop", json={"protected": True})

    refusal(expiring_protected, 409, "environment_protected", "expires_at")
    refusal(protecting_expiring, 409, "environment_protected", "protected")
    assert idle_client.get("/api/environments/prod").json()["expires_at"] is None
    assert idle_client.get("/api/environments/shop").json()["protected"] is False


def test_creating_with_an_expiry_needs_the_name_too_and_the_audit_names_the_fields(
    idle_client: TestClient, clock: Clock
) -> None:
    unconfirmed = idle_client.post(
        "/api/environments", json={"name": "blog", "expires_at": at(clock, days=2)}
    )
    confirmed = idle_client.post(
        "/api/environments",
        json={"name": "blog", "expires_at": at(clock, days=2), "confirm": "blog"},
    )
    idle_client.patch("/api/environments/blog", json={"expires_at": None, "confirm": "blog"})

    refusal(unconfirmed, 409, "confirmation_required", "expires_at")
    assert confirmed.status_code == 201, confirmed.text
    audit = idle_client.get("/api/audit", params={"limit": 10}).json()
    updates = [row for row in audit if row["action"] == "environment.update"]
    assert [row["detail"] for row in updates] == ["changed expires_at"]  # not the confirmation
