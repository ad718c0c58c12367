"""Operation ids are part of the API: generated clients name their functions after them.

An API route's id is `<tag>_<name>`: its router's first tag (the plural noun of its resource,
such as `environments`) and the `name=` its decorator gives (a verb, or verb and object for
what hangs below the resource: `promote`, `list_runs`). docs/api.md states the convention and
tests/service/api/test_operation_ids.py pins every id.
"""

from __future__ import annotations

from fastapi.routing import APIRoute
from fastapi.utils import generate_unique_id


def operation_id(route: APIRoute) -> str:
    if not route.tags or not route.include_in_schema:
        return generate_unique_id(route)  # the pages: never described, never generated
    return f"{route.tags[0]}_{route.name}"
