"""The edit form: fields fixed while deployed are read-only with the reason; a conflict shows
their change beside yours, keeps what you typed and saves nothing until you save again."""

from __future__ import annotations

import json
import re

from tests.helpers import ADMIN_HEADERS, wait_for_operation
from tests.service.web.form_client import Browser, hidden


def _deployed(web: Browser) -> None:
    web.form("/environments", name="shop", region="eu-west-1")
    operation = web.client.post("/api/environments/shop/promote", headers=ADMIN_HEADERS).json()
    assert wait_for_operation(web.client, operation["id"])["status"] == "succeeded"


def _as_a_browser_sends(page: str, **typed: str) -> dict[str, str]:
    """Every field of the form as loaded, with what was typed over it."""
    loaded = json.loads(hidden(page, "loaded"))
    return {**loaded, "etag": hidden(page, "etag"), "loaded": hidden(page, "loaded"), **typed}


def _input(page: str, name: str) -> str:
    found = re.search(rf'<input [^>]*id="{name}"[^>]*>', page)
    assert found, f"no input {name}"
    return found.group(0)


def test_region_engine_and_zones_are_read_only_with_the_reason_while_deployed(
    web: Browser,
) -> None:
    web.form("/environments", name="shop", region="eu-west-1")
    assert "readonly" not in web.client.get("/environments/shop/edit").text  # nothing deployed
    operation = web.client.post("/api/environments/shop/promote", headers=ADMIN_HEADERS).json()
    wait_for_operation(web.client, operation["id"])

    page = web.client.get("/environments/shop/edit").text

    for field in ("region", "db_engine", "availability_zones"):
        assert "readonly" in _input(page, field), field
        assert f'aria-describedby="{field}-help {field}-fixed"' in page, field
    assert 'value="eu-west-1" readonly' in page
    assert "Read-only while deployed. The region can only change while nothing is" in page
    assert "changing it replaces the Aurora cluster and loses its data." in page
    assert "readonly" not in _input(page, "web_max")


def test_an_edit_conflict_shows_their_change_beside_yours_and_keeps_your_input(
    web: Browser,
) -> None:
    _deployed(web)
    form_page = web.client.get("/environments/shop/edit").text
    mine = _as_a_browser_sends(form_page, web_max="6", description="mine")
    theirs = web.client.patch(
        "/api/environments/shop",
        json={"description": "theirs", "target_cpu": 40},
        headers=ADMIN_HEADERS,
    )
    assert theirs.status_code == 200

    stale = web.form("/environments/shop/edit", **mine)

    assert stale.status_code == 412
    page = stale.text
    assert "Someone saved a change to shop after you opened this form" in page
    assert "You both changed Description: the form keeps yours." in page
    table = page[page.index('class="differences"') : page.index("</table>")]
    assert "Description</a> <strong>(you both changed it)</strong>" in table
    assert "<td>theirs</td>" in table and "<td>mine</td>" in table
    assert "Target CPU" in table and "(you did not change it)" in table
    assert "Web servers, maximum" in table and "<td>6</td>" in table
    # Your input is kept; a field only they changed shows their value, so saving keeps it.
    assert 'value="mine"' in _input(page, "description")
    assert 'value="6"' in _input(page, "web_max")
    assert 'value="40"' in _input(page, "target_cpu")
    detail = web.client.get("/api/environments/shop", headers=ADMIN_HEADERS).json()
    assert (detail["description"], detail["web_max"]) == ("theirs", 4)  # nothing saved

    again = _as_a_browser_sends(page, web_max="6", description="mine")
    saved = web.form("/environments/shop/edit", **again)

    assert saved.status_code == 303
    detail = web.client.get("/api/environments/shop", headers=ADMIN_HEADERS).json()
    assert (detail["description"], detail["web_max"], detail["target_cpu"]) == ("mine", 6, 40)
