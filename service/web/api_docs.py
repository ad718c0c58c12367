"""The API's documentation page: Swagger UI from the installed `swagger-ui-bundle-v2` package
(Apache-2.0), so it shows on a machine without internet, started by a script file of our own
(`static/api_docs.js`), so the Content-Security-Policy holds without an inline script."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse
from swagger_ui_bundle import swagger_ui_path

from service.api.guard import Reader
from service.errors import NotFound
from service.web.templating import templates

router = APIRouter(include_in_schema=False)
SWAGGER_UI = Path(swagger_ui_path)
# The two files the page loads; the package's other files (its demo page) are not served.
ASSETS = {"swagger-ui-bundle.js": "text/javascript", "swagger-ui.css": "text/css"}


@router.get("/docs")
def api_docs(request: Request, guard: Reader) -> HTMLResponse:
    return templates.TemplateResponse(request, "api_docs.html", {"csrf_token": guard.csrf_token})


@router.get("/docs/assets/{name}")
def api_docs_asset(name: str) -> FileResponse:
    """Public, like the pages' own /static files."""
    if name not in ASSETS:
        raise NotFound(f"The API documentation has no file '{name}'.")
    return FileResponse(SWAGGER_UI / name, media_type=ASSETS[name])
