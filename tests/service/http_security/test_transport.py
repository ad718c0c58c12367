"""HTTPS as the service sees it: served directly (the test client's https:// base) or reported by
a proxy trusted by address. Over HTTPS the session cookie is `__Host-`, Secure, and HSTS is
sent; a proxy's X-Forwarded-* from any other address change nothing; plain HTTP can be
redirected."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.helpers import ADMIN_TOKEN
from tests.service.http_security.conftest import MakeClient, audit_records

PROXY = ("10.1.2.3", 40000)
STRANGER = ("198.51.100.20", 40000)


def _log_in(client: TestClient, headers: dict[str, str] | None = None) -> str:
    response = client.post(
        "/login", data={"token": ADMIN_TOKEN}, headers=headers or {}, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    return str(response.headers["set-cookie"])


def test_over_https_the_cookie_is_host_only_and_secure_and_hsts_is_sent(
    make_client: MakeClient,
) -> None:
    browser = make_client(base_url="https://stepladder.test")

    cookie = _log_in(browser)

    assert cookie.startswith("__Host-stepladder_session=")
    assert "Secure" in cookie and "HttpOnly" in cookie and "Path=/" in cookie
    assert "Domain" not in cookie
    page = browser.get("/")
    assert page.status_code == 200 and "<span>bootstrap (admin)</span>" in page.text
    assert page.headers["strict-transport-security"].startswith("max-age=")
    assert int(page.headers["strict-transport-security"].split("=")[1].split(";")[0]) >= 15768000

    logged_out = browser.post(
        "/logout", data={"csrf_token": _csrf(page.text)}, follow_redirects=False
    )
    removal = logged_out.headers["set-cookie"]
    assert removal.startswith("__Host-stepladder_session=") and "Secure" in removal


def test_over_plain_http_the_cookie_has_no_prefix_and_no_hsts(make_client: MakeClient) -> None:
    browser = make_client()

    cookie = _log_in(browser)

    assert cookie.startswith("stepladder_session=") and "Secure" not in cookie
    assert "strict-transport-security" not in browser.get("/").headers


def test_over_https_a_planted_plain_cookie_is_not_a_session(make_client: MakeClient) -> None:
    """Anyone who can answer a plain-HTTP request for the host can set `stepladder_session`;
    over HTTPS only the `__Host-` cookie counts."""
    plain = make_client()
    _log_in(plain)
    secret = plain.cookies["stepladder_session"]
    browser = make_client(base_url="https://stepladder.test")

    browser.cookies.set("stepladder_session", secret, domain="stepladder.test")

    assert browser.get("/api/environments").status_code == 401


def test_a_trusted_proxy_tells_the_scheme_and_the_client(make_client: MakeClient) -> None:
    browser = make_client(client=PROXY, trusted_proxies="10.0.0.0/8")
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}

    cookie = _log_in(browser, forwarded)
    failed = browser.post("/login", data={"token": "slp_wrong"}, headers=forwarded)

    assert cookie.startswith("__Host-stepladder_session=") and "Secure" in cookie
    assert "strict-transport-security" in failed.headers
    audit = _audit_details(make_client)
    assert any("from 203.0.113.9:" in detail for detail in audit), audit


def test_forwarded_headers_from_anyone_else_change_nothing(make_client: MakeClient) -> None:
    browser = make_client(client=STRANGER, trusted_proxies="10.0.0.0/8")
    forged = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}

    cookie = _log_in(browser, forged)
    browser.post("/login", data={"token": "slp_wrong"}, headers=forged)

    assert cookie.startswith("stepladder_session=") and "Secure" not in cookie
    audit = _audit_details(make_client)
    assert any(f"from {STRANGER[0]}:" in detail for detail in audit), audit
    assert not any("203.0.113.9" in detail for detail in audit)


def test_with_no_proxy_configured_even_loopback_is_not_believed(make_client: MakeClient) -> None:
    """uvicorn on its own believes 127.0.0.1; the service believes only whom it is told to."""
    browser = make_client(client=("127.0.0.1", 40000))

    cookie = _log_in(browser, {"X-Forwarded-Proto": "https"})

    assert cookie.startswith("stepladder_session=") and "Secure" not in cookie


def test_https_redirect_sends_plain_http_to_https_but_health_checks_stay(
    make_client: MakeClient,
) -> None:
    browser = make_client(client=PROXY, trusted_proxies="10.0.0.0/8", https_redirect=True)

    plain = browser.get("/environments?x=1", follow_redirects=False)
    form = browser.post("/login", data={"token": ADMIN_TOKEN}, follow_redirects=False)
    behind_proxy = browser.get(
        "/login", headers={"X-Forwarded-Proto": "https"}, follow_redirects=False
    )

    assert plain.status_code == 308
    assert plain.headers["location"] == "https://stepladder.test/environments?x=1"
    assert form.status_code == 308  # a POST stays a POST, and nothing was logged in
    assert "set-cookie" not in form.headers
    assert plain.headers["x-frame-options"] == "DENY"  # a redirect is an answer like any other
    assert behind_proxy.status_code == 200
    assert browser.get("/healthz").status_code == 200


def _csrf(page: str) -> str:
    marker = 'name="csrf_token" value="'
    start = page.index(marker) + len(marker)
    return page[start : page.index('"', start)]


def _audit_details(make_client: MakeClient) -> list[str]:
    return [str(record["detail"]) for record in audit_records(make_client)]
