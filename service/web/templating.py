"""Rendering pages: one Jinja2 environment, and what every page gets."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from service.api.guard import Guard
from service.config import Settings
from service.web.schedule_form import idle_warning, what_it_does
from service.web.times import expiry_note, local, time_tag

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
OPERATION_IN_DETAIL = re.compile(r"\boperation (\d+)")


def operation_in(detail: str) -> str | None:
    """The operation an audit record's detail names, to link to it."""
    found = OPERATION_IN_DETAIL.search(detail or "")
    return found.group(1) if found else None


templates.env.filters["operation_in"] = operation_in
templates.env.filters["local_time"] = local
templates.env.globals["time_tag"] = time_tag
templates.env.globals["expiry_note"] = expiry_note
templates.env.globals["what_it_does"] = what_it_does
templates.env.globals["idle_warning"] = idle_warning


def render(
    request: Request,
    template: str,
    viewer: Guard | None,
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
            # Set by the page's permission (service.web.auth) for the navigation.
            "approvals_waiting": getattr(request.state, "approvals_waiting", 0),
            **context,
        },
        status_code=status_code,
    )
