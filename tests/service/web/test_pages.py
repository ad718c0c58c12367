"""Every page and form of the web form, through the test client: content, rules, refusals."""

from __future__ import annotations

import html
from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from service.app import create_app
from service.clock import Clock
from tests.conftest import make_settings
from tests.helpers import ADMIN_HEADERS, wait_for_operation
from tests.service.web.form_client import Browser
from tests.service.web.form_client import hidden as _hidden


def _create(web: Browser, name: str = "shop", **fields: str) -> httpx.Response:
    return web.form("/environments", name=name, region="eu-west-1", **fields)


def test_pages_need_a_session(web: Browser) -> None:
    anonymous = TestClient(web.client.app, base_url="https://stepladder.test")
    for path in ("/", "/environments/new", "/environments/shop", "/operations/1"):
        response = anonymous.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"] == f"/login?next={path}", path


def test_list_starts_empty_and_offers_creation(web: Browser) -> None:
    page = web.client.get("/")
    assert "No environments yet" in page.text
    assert 'href="/environments/new"' in page.text
    assert "Engine: simulator" in page.text


def test_create_form_shows_every_field_with_default_unit_and_help(web: Browser) -> None:
    page = web.client.get("/environments/new").text
    for field in (
        "name",
        "region",
        "web_min",
        "reader_max",
        "cache_node_count",
        "secondary_region",
    ):
        assert f'<label for="{field}">' in page and f'id="{field}"' in page
    assert "Web servers, minimum (instances)" in page and "Default: 2." in page
    legends = ["Basics", "Web tier", "Database", "Cache", "Workers", "Business hours"]
    assert all(f"<legend>{legend}</legend>" in page for legend in legends)
    assert page.index("<legend>Database</legend>") < page.index('id="reader_count"')
    assert '<label for="name">Name (required)</label>' in page
    assert '<select id="region" name="region"' in page and '<option value="eu-west-1"' in page
    assert _hidden(page, "idempotency_key")


def test_create_errors_appear_next_to_the_field_with_input_kept(web: Browser) -> None:
    response = _create(web, name="Shop!", web_min="5", web_max="3")

    assert response.status_code == 422
    html = response.text
    assert "lowercase DNS label" in html and "at least web_min (5)" in html
    # The summary links each problem to its field; messages start with a capital.
    summary = html[html.index('id="error-summary"') :]
    assert summary.index('href="#name"') < summary.index(
        '<a href="#web_max">Web servers, maximum: Must be at least web_min (5)</a>'
    )
    assert 'id="name" name="name" value="Shop!" aria-describedby="name-help name-problem"' in html
    assert 'aria-invalid="true"' in html and 'id="error-summary" tabindex="-1"' in html
    assert 'value="Shop!"' in html and 'value="5"' in html
    assert web.client.get("/api/environments", headers=ADMIN_HEADERS).json() == []


def test_create_then_the_environment_page(web: Browser) -> None:
    created = _create(web, description="the shop")
    assert created.status_code == 303
    assert created.headers["location"] == "/environments/shop?done=created"

    page = web.client.get("/environments/shop").text

    assert "not deployed" in page and "the shop" in page
    assert page.count('class="level"') == 8
    assert "Promote" in page and "Edit definition" in page
    duplicate = _create(web)
    assert duplicate.status_code == 409 and "already exists" in duplicate.text


def test_forms_without_csrf_or_from_another_site_are_refused(web: Browser) -> None:
    no_token = web.client.post("/environments", data={"name": "shop", "region": "eu-west-1"})
    assert no_token.status_code == 403
    cross_site = web.client.post(
        "/environments",
        data={"csrf_token": web.csrf, "name": "shop", "region": "eu-west-1"},
        headers={"Origin": "https://evil.example"},
    )
    assert cross_site.status_code == 403
    assert web.client.get("/api/environments", headers=ADMIN_HEADERS).json() == []


def test_change_flow_previews_then_runs_once_even_when_submitted_twice(web: Browser) -> None:
    _create(web)
    preview = web.client.get("/environments/shop/change", params={"kind": "promote"})
    assert preview.status_code == 200
    assert "to create" in preview.text and "tier 0" in preview.text
    key = _hidden(preview.text, "idempotency_key")

    first = web.form("/environments/shop/change", kind="promote", idempotency_key=key)
    second = web.form("/environments/shop/change", kind="promote", idempotency_key=key)

    assert first.headers["location"] == second.headers["location"]
    _wait(web, int(first.headers["location"].split("?")[0].rsplit("/", 1)[1]))
    operations = web.client.get("/api/environments/shop/operations", headers=ADMIN_HEADERS).json()
    assert len(operations) == 1
    page = web.client.get(first.headers["location"]).text
    assert 'id="log"' in page and "of" in page and "/static/live.js" in page


def test_destructive_steps_ask_for_the_name_and_warn_about_the_data(web: Browser) -> None:
    _create(web)
    for _ in range(2):
        operation = web.client.post("/api/environments/shop/promote", headers=ADMIN_HEADERS).json()
        _wait(web, operation["id"])

    preview = web.client.get("/environments/shop/change", params={"kind": "demote"}).text

    assert "This step deletes data" in preview and "shop-aurora-cluster" in preview
    assert 'id="confirm" name="confirm"' in preview
    key = _hidden(preview, "idempotency_key")
    refused = web.form("/environments/shop/change", kind="demote", idempotency_key=key)
    assert refused.status_code == 409 and "confirm" in refused.text
    confirmed = web.form(
        "/environments/shop/change", kind="demote", confirm="shop", idempotency_key=key
    )
    assert confirmed.status_code == 303


def test_architecture_picture_follows_the_resources(web: Browser) -> None:
    _create(web)
    for _ in range(3):
        operation = web.client.post("/api/environments/shop/promote", headers=ADMIN_HEADERS).json()
        _wait(web, operation["id"])

    page = web.client.get("/environments/shop").text

    svg = page[page.index("<svg") : page.index("</svg>")]
    for label in ("Users", "Load balancer", "Web x2", "Aurora writer", "Aurora standby"):
        assert label in svg
    assert "CloudFront" not in svg
    assert 'aria-current="step"' in page


def test_edit_uses_the_etag_so_two_editors_cannot_overwrite_each_other(web: Browser) -> None:
    _create(web)
    form_page = web.client.get("/environments/shop/edit").text
    etag = _hidden(form_page, "etag")
    saved = web.form("/environments/shop/edit", etag=etag, region="eu-west-1", description="first")
    assert saved.status_code == 303

    stale = web.form("/environments/shop/edit", etag=etag, region="eu-west-1", description="second")

    assert stale.status_code == 412
    assert "Someone saved a change to shop after you opened this form" in stale.text
    detail = web.client.get("/api/environments/shop", headers=ADMIN_HEADERS).json()
    assert detail["description"] == "first"


def test_a_viewer_sees_no_action_buttons_and_cannot_post(web: Browser) -> None:
    _create(web)
    token = web.client.post(
        "/api/tokens", json={"name": "vera", "role": "viewer"}, headers=ADMIN_HEADERS
    ).json()["token"]
    viewer_client = TestClient(web.client.app, base_url="https://stepladder.test")
    viewer = Browser(viewer_client, token)

    page = viewer.client.get("/environments/shop").text
    assert "Promote" not in page and "Edit definition" not in page
    assert 'href="/environments/new"' not in viewer.client.get("/").text
    refused = viewer.form("/environments/shop/change", kind="promote")
    assert refused.status_code == 403
    assert viewer.client.get("/environments/new").status_code == 403


def _wait(web: Browser, operation_id: int) -> None:
    wait_for_operation(_ApiClient(web.client), operation_id)


class _ApiClient:
    def __init__(self, client: TestClient) -> None:
        self.client = client

    def get(self, path: str) -> object:
        return self.client.get(path, headers=ADMIN_HEADERS)


def test_preview_counts_every_kind_of_change(web: Browser) -> None:
    _create(web)
    operation = web.client.post(
        "/api/environments/shop/tier", json={"target_tier": 1}, headers=ADMIN_HEADERS
    ).json()
    _wait(web, operation["id"])

    page = web.client.get("/environments/shop/change", params={"kind": "demote"}).text

    # 1 -> 0: the web box gets the database back (an update); the way back is created (the
    # cluster's snapshot, its move document and what runs it: 5), and the data tier goes (17).
    assert "5 to create" in page and "1 to update" in page and "17 to delete" in page
    assert "built-in method" not in page


def test_the_change_form_of_0_to_1_says_the_database_moves_and_the_site_waits(
    web: Browser,
) -> None:
    _create(web)
    operation = web.client.post(
        "/api/environments/shop/tier", json={"target_tier": 0}, headers=ADMIN_HEADERS
    ).json()
    _wait(web, operation["id"])

    page = html.unescape(
        web.client.get("/environments/shop/change", params={"kind": "promote"}).text
    )

    assert "interrupts traffic" in page, page
    # The template capitalises the line (Jinja lowers the rest).
    assert (
        "The step to tier 1 moves the box's database into aurora: the site is down for the "
        "dump, load and check (minutes for a first-users database)."
    ) in page


def test_the_change_form_of_1_to_0_says_the_database_comes_back_after_a_snapshot(
    web: Browser,
) -> None:
    _create(web)
    operation = web.client.post(
        "/api/environments/shop/tier", json={"target_tier": 1}, headers=ADMIN_HEADERS
    ).json()
    _wait(web, operation["id"])

    page = html.unescape(
        web.client.get("/environments/shop/change", params={"kind": "demote"}).text
    )

    assert (
        "The step to tier 0 snapshots the aurora cluster, then moves its databases back onto "
        "the box: the site is down for the dump, load and check"
    ) in page, page
    # Still destructive: the cluster goes (with its final snapshot) once the data is back.
    assert "This step deletes data" in page and "shop-aurora-cluster" in page


def test_approvals_page_lets_another_admin_decide(web: Browser) -> None:
    _create(web, protected="on")
    operator = web.client.post(
        "/api/tokens", json={"name": "olga", "role": "operator"}, headers=ADMIN_HEADERS
    ).json()["token"]
    asked = web.client.post(
        "/api/environments/shop/promote", headers={"Authorization": f"Bearer {operator}"}
    ).json()
    assert asked["status"] == "awaiting_approval"

    page = web.client.get("/approvals").text
    assert f'href="/operations/{asked["id"]}"' in page and "olga" in page
    decided = web.form(f"/approvals/{asked['id']}", decision="approve", comment="ok")

    assert decided.status_code == 303
    after = web.client.get(f"/api/operations/{asked['id']}", headers=ADMIN_HEADERS).json()
    assert after["decided_by"] == "bootstrap" and after["status"] in (
        "queued",
        "running",
        "succeeded",
    )
    assert "Nothing is waiting" in web.client.get("/approvals").text


def test_audit_page_filters(web: Browser) -> None:
    _create(web, name="alpha")
    _create(web, name="beta")

    page = web.client.get("/audit", params={"environment": "beta"}).text

    assert "environment.create" in page and ">beta<" in page and ">alpha<" not in page
    assert '<label for="actor">' in page


def test_schedules_page_adds_a_schedule_and_shows_the_week(web: Browser) -> None:
    _create(web)
    page = web.client.get("/environments/shop/schedules").text
    assert "No schedules yet" in page and "The week ahead" in page

    bad = web.form(
        "/environments/shop/schedules", name="nights", cron="every night", timezone="Europe/Berlin",
        action="set_capacity", web_min="1",
    )  # fmt: skip
    assert (
        bad.status_code == 422 and "5-field cron" in bad.text and 'value="every night"' in bad.text
    )
    added = web.form(
        "/environments/shop/schedules", name="nights", cron="0 19 * * *", timezone="Europe/Berlin",
        action="set_capacity", web_min="1", blackouts="2099-12-24..2099-12-26",
    )  # fmt: skip
    assert added.status_code == 303

    assert added.headers["location"].startswith("/environments/shop/schedules?done=created&id=")

    page = web.client.get(added.headers["location"]).text
    assert "Schedule nights created" in page
    # Nothing deployed: its override changes nothing, said on creation and in the list.
    assert page.count("Changes nothing while nothing is deployed") == 2
    assert "Scale capacity: Web servers, minimum 1" in page and "{&#39;web_min&#39;" not in page
    assert "<code>0 19 * * *</code> in Europe/Berlin" in page
    assert page.count("<li><h3>") == 7 and page.count("19:00 nights") >= 6
    assert 'class="band"' not in page and "0.0 h held by schedules" in page
    assert '<option value="Europe/Berlin" selected>' in page  # the zones are a list


def test_a_double_submitted_create_form_creates_once(web: Browser) -> None:
    key = _hidden(web.client.get("/environments/new").text, "idempotency_key")

    first = _create(web, idempotency_key=key)
    second = _create(web, idempotency_key=key)

    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert first.headers["location"] == "/environments/shop?done=created"
    assert len(web.client.get("/api/environments", headers=ADMIN_HEADERS).json()) == 1


def test_the_change_form_is_rate_limited_like_the_api(
    tmp_path: Path, database_url: str, db_engine: Engine, clock: Clock
) -> None:
    settings = make_settings(tmp_path, database_url, rate_limit_per_minute=1)
    app = create_app(
        settings, database_url, db_engine=db_engine, run_worker_in_process=False, clock=clock
    )
    with TestClient(app, base_url="https://stepladder.test") as client:
        web = Browser(client)
        _create(web)
        first = web.form("/environments/shop/change", kind="promote")
        second = web.form("/environments/shop/change", kind="promote")

    assert first.status_code == 303
    assert second.status_code == 429 and "operation requests a minute" in second.text


def test_errors_are_pages_for_a_browser_and_json_for_the_api(web: Browser) -> None:
    page = web.client.get("/environments/nope")
    api = web.client.get("/api/environments/nope", headers=ADMIN_HEADERS)

    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "There is no environment named &#39;nope&#39;" in page.text
    assert 'aria-label="Main"' in page.text  # the navigation stays
    assert api.status_code == 404 and api.json()["error"] == "not_found"
    _create(web)
    conflict = web.form("/environments/shop/delete", confirm="shop")
    assert conflict.status_code == 303  # nothing deployed: deleted
    missing_operation = web.client.get("/operations/999")
    assert missing_operation.status_code == 404 and "<h1>Not found</h1>" in missing_operation.text


def test_after_a_decision_the_approvals_list_keeps_the_scope(web: Browser) -> None:
    for name in ("dev-a", "prod"):
        _create(web, name=name, protected="on")
    tokens = {
        role: web.client.post(
            "/api/tokens", json={"name": name, "role": role, "scope": scope}, headers=ADMIN_HEADERS
        ).json()["token"]
        for name, role, scope in (("olga", "operator", None), ("dana", "admin", "dev-*"))
    }
    operator = {"Authorization": f"Bearer {tokens['operator']}"}
    asked = {
        name: web.client.post(f"/api/environments/{name}/promote", headers=operator).json()["id"]
        for name in ("dev-a", "prod")
    }
    scoped = Browser(
        TestClient(web.client.app, base_url="https://stepladder.test"), tokens["admin"]
    )

    assert scoped.form(f"/approvals/{asked['dev-a']}", decision="reject").status_code == 303
    again = scoped.form(f"/approvals/{asked['dev-a']}", decision="reject")

    assert again.status_code == 409 and "not awaiting approval" in again.text
    assert f'href="/operations/{asked["prod"]}"' not in again.text
    assert f'href="/operations/{asked["prod"]}"' in web.client.get("/approvals").text


def test_a_wrong_confirmation_keeps_the_plan_and_the_form(web: Browser) -> None:
    _create(web)
    operation = web.client.post(
        "/api/environments/shop/tier", json={"target_tier": 1}, headers=ADMIN_HEADERS
    ).json()
    _wait(web, operation["id"])

    wrong = web.form("/environments/shop/change", kind="destroy", confirm="shp")

    assert wrong.status_code == 409
    assert 'id="confirm-problem"' in wrong.text and "type shop exactly" in wrong.text
    assert "This step deletes data" in wrong.text and 'aria-invalid="true"' in wrong.text
    assert "shop-aurora-cluster" in wrong.text  # the plan's resource list is still there


def test_a_set_tier_schedule_is_added_from_the_form_and_a_tier_in_words_is_a_422(
    web: Browser,
) -> None:
    _create(web)
    schedule = {"cron": "0 19 * * *", "timezone": "UTC", "action": "set_tier"}

    odd = web.form("/environments/shop/schedules", name="odd", target_tier="²", **schedule)
    added = web.form("/environments/shop/schedules", name="up", target_tier="2", **schedule)

    assert odd.status_code == 422 and "target_tier" in odd.text
    assert added.status_code == 303
    [listed] = web.client.get("/api/environments/shop/schedules", headers=ADMIN_HEADERS).json()
    assert (listed["name"], listed["target_tier"]) == ("up", 2)


def test_a_change_to_a_tier_that_is_not_a_number_is_a_422_not_a_500(web: Browser) -> None:
    _create(web)
    preview = web.client.get(
        "/environments/shop/change", params={"kind": "set_tier", "target_tier": 1}
    ).text
    key = _hidden(preview, "idempotency_key")

    refused = web.form(
        "/environments/shop/change", kind="set_tier", target_tier="²", idempotency_key=key
    )

    assert refused.status_code == 422 and "target_tier" in refused.text
    assert web.client.get("/api/environments/shop/operations", headers=ADMIN_HEADERS).json() == []


def test_the_schedule_form_previews_the_next_five_firings_in_the_zone(web: Browser) -> None:
    _create(web)
    path = "/environments/shop/schedules/preview"

    preview = web.client.get(path, params={"cron": "30 6 * * *", "timezone": "Asia/Tokyo"})
    wrong = web.client.get(path, params={"cron": "every day", "timezone": "Mars/Base"})

    assert preview.status_code == 200
    assert (
        preview.text.count("06:30 JST") == 5 and "The next 5 firings in Asia/Tokyo" in preview.text
    )
    assert "When: Must be a 5-field cron" in wrong.text and "is not an IANA time zone" in wrong.text
