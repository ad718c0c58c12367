"""Rendering pages: one Jinja2 environment, and what every page gets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from service.config import Settings
from service.web.auth import Viewer

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


def render(
    request: Request,
    template: str,
    viewer: Viewer | None,
    settings: Settings,
    *,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    return templates.TemplateResponse(
        request,
        template,
        {
            "viewer": viewer,
            "simulated": settings.engine == "simulator",
            "engine": settings.engine,
            **context,
        },
        status_code=status_code,
    )
