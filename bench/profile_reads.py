"""Where `GET /api/environments` (100 environments) and the detail endpoint spend their time.

pyinstrument samples one thread, and a sync route runs in the server's threadpool, so this
runs what the route runs, in order, on the main thread: authenticate the token, read, describe,
and serialize as FastAPI does. `python profile_reads.py [list|detail]`."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from pyinstrument import Profiler
from server import BENCH_TOKEN, HEADERS, embedded_database

from service.app import create_app
from service.config import Settings

REQUESTS = 200


def main(which: str) -> None:
    with embedded_database() as database_url, tempfile.TemporaryDirectory() as data_dir:
        settings = Settings(
            database_url=database_url, data_dir=Path(data_dir), bootstrap_token=BENCH_TOKEN
        )
        app = create_app(settings, database_url, run_worker_in_process=False)
        with TestClient(app, headers=HEADERS) as client:
            for index in range(100):
                client.post(
                    "/api/environments", json={"name": f"e{index:03d}", "region": "eu-west-1"}
                )
        profiler = Profiler(interval=0.0005)
        with profiler:
            for _ in range(REQUESTS):
                _handle(app.state.db_engine, which)
        print(profiler.output_text(unicode=False, color=False, show_all=False))


def _handle(engine: Any, which: str) -> bytes:
    from pydantic import TypeAdapter
    from sqlmodel import Session

    from service.access.domain import authenticate
    from service.api.environments import ENVIRONMENT_LIST
    from service.environments import domain
    from service.environments.schemas import EnvironmentDetail

    with Session(engine, expire_on_commit=False) as session:
        actor = authenticate(session, BENCH_TOKEN)
        if which == "list":
            # As the list route does: the rows' values, serialized once.
            rows = domain.describe_visible_environments(session, actor)
            session.commit()
            return bytes(ENVIRONMENT_LIST.dump_json(rows))
        described = domain.describe_environment(
            session, domain.require_environment(session, "e000")
        )
        session.commit()
    # As FastAPI does for a sync route's return annotation: validate, then dump to JSON.
    adapter: Any = TypeAdapter(EnvironmentDetail)
    return bytes(adapter.dump_json(adapter.validate_python(described)))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "list")
