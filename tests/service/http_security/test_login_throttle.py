"""Failed logins: audited with the client's address and never the secret tried, counted in the
metrics, slowed past a few and refused (429, Retry-After) past more, for that address only: the
real admin logging in from elsewhere still gets in."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from service.clock import Clock
from tests.helpers import ADMIN_HEADERS, ADMIN_TOKEN
from tests.service.http_security.conftest import ADMIN_ELSEWHERE, MakeClient, audit_records

ATTACKER = ("203.0.113.5", 40000)
THROTTLE = {
    "login_failures_before_delay": 2,
    "login_failures_before_lockout": 4,
    "login_failure_window_minutes": 15,
    "login_delay_seconds": 0.01,
}
WRONG = "slp_guess-0123456789"


@pytest.fixture
def delays(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The delays the service held answers back by (spent as no time at all)."""
    held: list[float] = []
    real_sleep = asyncio.sleep

    async def sleep(seconds: float) -> None:
        held.append(seconds)
        await real_sleep(0)

    monkeypatch.setattr("service.http_security.delay.sleep", sleep)
    return held


def _metric(client: TestClient, line_start: str) -> float:
    text = client.get("/metrics", headers=ADMIN_HEADERS).text
    for line in text.splitlines():
        if line.startswith(line_start):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_failed_logins_are_audited_with_the_address_and_no_secret(
    make_client: MakeClient,
) -> None:
    attacker = make_client(client=ATTACKER)

    web = attacker.post("/login", data={"token": WRONG})
    api = attacker.get("/api/environments", headers={"Authorization": f"Bearer {WRONG}x"})

    assert web.status_code == 401 and api.status_code == 401
    records = audit_records(make_client)
    failures = [record for record in records if record["outcome"] == "denied"]
    by_action = {record["action"]: record for record in failures}
    assert by_action["session.login"]["channel"] == "web"
    assert by_action["session.login"]["detail"] == (
        "POST /login from 203.0.113.5: That token is not known."
    )
    assert by_action["authenticate"]["channel"] == "api"
    assert "GET /api/environments from 203.0.113.5" in by_action["authenticate"]["detail"]
    assert WRONG not in str(records)
    admin = make_client(client=ADMIN_ELSEWHERE, of=attacker)
    assert _metric(admin, 'stepladder_login_failures_total{channel="web"}') == 1
    assert _metric(admin, 'stepladder_login_failures_total{channel="api"}') == 1


def test_repeated_failures_slow_down_then_get_429_and_the_admin_elsewhere_gets_in(
    make_client: MakeClient, delays: list[float]
) -> None:
    attacker = make_client(client=ATTACKER, **THROTTLE)

    answers = [
        attacker.get("/api/environments", headers={"Authorization": f"Bearer {WRONG}{n}"})
        for n in range(4)
    ]
    # Past the allowance even the right token is refused, before it is looked at: a guesser
    # cannot tell a right guess from a wrong one.
    right_token = attacker.get("/api/environments", headers=ADMIN_HEADERS)
    web_form = attacker.post("/login", data={"token": ADMIN_TOKEN}, follow_redirects=False)

    assert [answer.status_code for answer in answers] == [401, 401, 401, 401]
    assert delays == [0.01, 0.02, 0.04]  # from the 2nd failure on, doubling
    assert right_token.status_code == 429
    assert right_token.json()["error"] == "login_throttled"
    assert 0 < int(right_token.headers["retry-after"]) <= 15 * 60
    assert web_form.status_code == 429 and "set-cookie" not in web_form.headers
    assert "Too many failed logins from 203.0.113.5" in web_form.text
    assert 0 < int(web_form.headers["retry-after"]) <= 15 * 60
    assert web_form.headers["x-frame-options"] == "DENY"

    elsewhere = make_client(client=ADMIN_ELSEWHERE, of=attacker)
    assert elsewhere.get("/api/environments", headers=ADMIN_HEADERS).status_code == 200
    logged_in = elsewhere.post("/login", data={"token": ADMIN_TOKEN}, follow_redirects=False)
    assert logged_in.status_code == 303
    assert _metric(elsewhere, 'stepladder_login_throttled_total{answer="delayed"}') == 3
    assert _metric(elsewhere, 'stepladder_login_throttled_total{answer="refused"}') == 2
    crossing = [r["detail"] for r in audit_records(make_client) if "are refused" in r["detail"]]
    assert len(crossing) == 1 and "4 failures" in crossing[0]


def test_the_refusal_ends_with_its_window(
    make_client: MakeClient, clock: Clock, delays: list[float]
) -> None:
    attacker = make_client(client=ATTACKER, **THROTTLE)
    for _ in range(4):
        attacker.post("/login", data={"token": WRONG})
    assert attacker.get("/api/environments", headers=ADMIN_HEADERS).status_code == 429

    clock.advance(timedelta(minutes=15))

    assert attacker.get("/api/environments", headers=ADMIN_HEADERS).status_code == 200
    assert attacker.post("/login", data={"token": WRONG}).status_code == 401  # counted anew


def test_an_ipv6_client_is_counted_by_its_64(make_client: MakeClient, delays: list[float]) -> None:
    for host in range(1, 5):  # four addresses of one /64: one client
        client = make_client(client=(f"2001:db8:1:2::{host}", 40000), **THROTTLE)
        client.get("/api/environments", headers={"Authorization": f"Bearer {WRONG}"})

    same_network = make_client(client=("2001:db8:1:2::99", 40000), **THROTTLE)
    next_network = make_client(client=("2001:db8:1:3::1", 40000), **THROTTLE)

    assert same_network.get("/api/environments", headers=ADMIN_HEADERS).status_code == 429
    assert next_network.get("/api/environments", headers=ADMIN_HEADERS).status_code == 200
