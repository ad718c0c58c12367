"""A test client that logs in like a person and posts forms with the page's CSRF token."""

from __future__ import annotations

import html as html_module
import re

import httpx
from fastapi.testclient import TestClient

from tests.helpers import ADMIN_TOKEN


class Browser:
    def __init__(self, client: TestClient, token: str = ADMIN_TOKEN) -> None:
        self.client = client
        page = client.post("/login", data={"token": token}, follow_redirects=True)
        assert page.status_code == 200, page.text
        self.csrf = hidden(page.text, "csrf_token")

    def form(self, path: str, **fields: str) -> httpx.Response:
        response: httpx.Response = self.client.post(
            path, data={"csrf_token": self.csrf, **fields}, follow_redirects=False
        )
        return response


def hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no hidden {name}"
    return html_module.unescape(found.group(1))  # as a browser would send it
