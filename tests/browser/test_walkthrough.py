"""A new user's walk through the web form in Chromium: log in, create, promote, watch, demote."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from tests.browser.accessibility import check_page
from tests.browser.conftest import ARTIFACTS
from tests.e2e.conftest import Server
from tests.helpers import ADMIN_HEADERS, ADMIN_TOKEN, wait_for_operation


def _shot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def counter_text(page: Any) -> str:
    return str(page.locator("#counter").inner_text()).strip()


def _log_in(page: Any, server: Server) -> None:
    # Planning runs the programs: seconds, more on a busy shared machine.
    page.set_default_timeout(120_000)
    page.goto(f"{server.url}/login")
    page.get_by_label("API token").fill(ADMIN_TOKEN)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Environments").wait_for()


def test_create_promote_and_watch_the_live_log(
    start_server: Callable[..., Server], browser_page: Any
) -> None:
    server = start_server(simulator_seconds_per_resource="0.15")
    page = browser_page
    _log_in(page, server)
    _shot(page, "01-environments-empty")

    page.get_by_role("link", name="New environment").click()
    page.get_by_label("Name (required)").fill("Shop!")
    page.get_by_label("Region", exact=True).select_option("eu-west-1")
    page.get_by_label("Web servers, maximum").fill("1")
    page.get_by_role("button", name="Create").click()
    problem = page.locator(".problem").first
    assert "Must be a lowercase DNS label" in problem.inner_text()
    assert page.get_by_label("Name (required)").input_value() == "Shop!"  # input kept
    # Focus lands on the summary, whose links lead to the fields; the fields are outlined.
    assert page.evaluate("document.activeElement.id") == "error-summary"
    page.locator("#error-summary").get_by_role("link", name="Web servers, maximum").click()
    assert page.evaluate("document.activeElement.id") == "web_max"
    outline = page.get_by_label("Web servers, maximum").evaluate(
        "e => getComputedStyle(e).outlineStyle"
    )
    assert outline == "solid"
    assert (
        page.get_by_role("group", name="Database").get_by_label("Aurora readers").first.is_visible()
    )
    check_page(page, ARTIFACTS, "02-create-validation-error")
    page.get_by_label("Web servers, maximum").fill("4")
    page.get_by_label("Name (required)").fill("shop")
    page.get_by_role("button", name="Create").click()
    page.get_by_role("heading", name="shop").wait_for()
    assert "Nothing deployed yet" in page.content()
    _shot(page, "03-environment-new")

    page.get_by_role("button", name="Promote").click()
    assert "to create" in page.content()
    _shot(page, "04-promote-preview")
    page.get_by_role("button", name="Confirm").click()
    page.locator("#operation").wait_for()
    # The plan's total from the first render on; the count of changed resources moves up to it.
    first = re.fullmatch(r"(\d+) of (\d+) planned resources changed", counter_text(page))
    assert first is not None and int(first.group(2)) > 0
    planned = int(first.group(2))
    page.evaluate("window.__notReloaded = true")
    status = page.locator("#status")
    status.filter(has_text="succeeded").wait_for(timeout=60_000)
    assert page.evaluate("window.__notReloaded") is True  # it updated live, no reload
    assert "created" in page.locator("#log").inner_text()
    assert counter_text(page) == f"{planned} of {planned} planned resources changed"
    page.locator("#summary").filter(has_text="created").wait_for()  # without a reload
    assert "took" in page.locator("#timing").inner_text()
    _shot(page, "05-operation-succeeded-live")

    page.get_by_role("link", name="shop").first.click()
    before = page.locator("svg.architecture").inner_html()
    assert "Web x1" in before
    page.get_by_role("button", name="Promote").click()
    page.get_by_role("button", name="Confirm").click()
    page.locator("#status").filter(has_text="succeeded").wait_for(timeout=60_000)
    page.get_by_role("link", name="shop").first.click()
    after = page.locator("svg.architecture").inner_html()
    assert after != before and "Aurora writer" in after
    _shot(page, "06-architecture-after-promote")
    # After navigating, focus is on the page's heading; times read relative, exact on hover.
    assert (
        page.evaluate("document.activeElement.tagName + ' ' + document.activeElement.textContent")[
            :5
        ]
        == "H1 sh"
    )
    when = page.get_by_role("region", name="Operations").locator("time").first
    assert when.inner_text() == "now" or when.inner_text().endswith(" ago")
    assert str(when.get_attribute("title")).endswith(" UTC")
    page.goto(f"{server.url}/")
    last = page.get_by_role("region", name="Environments").locator("time").first
    assert str(last.get_attribute("title")).endswith(" UTC")
    check_page(page, ARTIFACTS, "07-environments-relative-times")


def test_destructive_demote_asks_for_the_name(
    start_server: Callable[..., Server], browser_page: Any
) -> None:
    server = start_server()
    server.client.post("/api/environments", json={"name": "shop", "region": "eu-west-1"})
    operation = server.client.post(
        "/api/environments/shop/tier", json={"target_tier": 1}, headers=ADMIN_HEADERS
    ).json()
    wait_for_operation(server.client, operation["id"])
    page = browser_page
    _log_in(page, server)

    page.goto(f"{server.url}/environments/shop")
    page.get_by_role("button", name="Demote").click()

    warning = page.get_by_role("alert")
    assert "This step deletes data" in warning.inner_text()
    assert "shop-aurora-cluster" in warning.inner_text()
    confirm = page.get_by_label("Type the environment's name, shop, to confirm")
    assert confirm.is_visible()
    _shot(page, "07-destructive-demote-confirmation")
    page.set_viewport_size({"width": 390, "height": 844})
    _shot(page, "08-destructive-demote-phone-width")
