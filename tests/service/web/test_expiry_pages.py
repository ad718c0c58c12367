"""An expiry on the pages: the time left on the environment's page and in the list, and the
definition form setting it with the name typed again and clearing it without."""

from __future__ import annotations

import html
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from service.app import create_app
from service.clock import Clock
from tests.conftest import make_settings
from tests.service.web.form_client import Browser, hidden


@pytest.fixture
def web(tmp_path: Path, database_url: str, db_engine: Engine, clock: Clock) -> Iterator[Browser]:
    settings = make_settings(tmp_path, database_url)
    app = create_app(
        settings, database_url, db_engine=db_engine, run_worker_in_process=False, clock=clock
    )
    with TestClient(app, base_url="https://stepladder.test") as client:
        yield Browser(client)


def edit(web: Browser, name: str, **fields: str) -> dict[str, str]:
    """The edit form's fields as loaded, with `fields` typed over them."""
    page = web.client.get(f"/environments/{name}/edit").text
    loaded = {"etag": hidden(page, "etag")}
    for field in ("region", "description", "expires_at", "web_instance_type"):
        loaded[field] = (
            html.unescape(hidden(page, field)) if f'name="{field}" value=' in page else ""
        )
    return {**loaded, **fields}


def test_the_pages_show_the_time_left_and_the_form_sets_it_with_the_name(
    web: Browser, clock: Clock
) -> None:
    created = web.form("/environments", name="shop", region="eu-west-1")
    assert created.status_code == 303
    expires = (clock.now() + timedelta(hours=5, minutes=12, seconds=30)).isoformat()

    unconfirmed = web.form("/environments/shop/edit", **edit(web, "shop", expires_at=expires))
    confirmed = web.form(
        "/environments/shop/edit", **edit(web, "shop", expires_at=expires, confirm="shop")
    )

    assert unconfirmed.status_code == 409
    assert 'id="expires_at-problem"' in unconfirmed.text
    assert "is destroyed with all its data" in html.unescape(unconfirmed.text)
    assert confirmed.status_code == 303, confirmed.text
    page = web.client.get("/environments/shop").text
    assert "expires in 5 h 12 min" in page
    assert f'datetime="{expires}"' in page
    assert "expires in 5 h 12 min" in web.client.get("/").text

    clock.advance(timedelta(hours=5))
    assert "expires in 12 min" in web.client.get("/environments/shop").text

    cleared = web.form("/environments/shop/edit", **edit(web, "shop", expires_at=""))
    assert cleared.status_code == 303, cleared.text
    assert "expires in" not in web.client.get("/environments/shop").text


def test_creating_with_an_expiry_on_the_form_needs_the_name(web: Browser, clock: Clock) -> None:
    expires = (clock.now() + timedelta(days=2, hours=3)).isoformat()

    unconfirmed = web.form("/environments", name="demo", region="eu-west-1", expires_at=expires)
    confirmed = web.form(
        "/environments", name="demo", region="eu-west-1", expires_at=expires, confirm="demo"
    )

    assert unconfirmed.status_code == 409
    assert 'id="expires_at-problem"' in unconfirmed.text
    assert confirmed.status_code == 303, confirmed.text
    assert "expires in 2 d 3 h" in web.client.get("/environments/demo").text
