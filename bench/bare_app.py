"""The floor for reads: a bare FastAPI route returning every environment row with one query
from the same database, through the same driver and pool kind as the service."""

from __future__ import annotations

import os
from typing import Any

from fastapi import FastAPI
from sqlalchemy import text

from db.engine import create_db_engine

engine = create_db_engine(os.environ["BENCH_DATABASE_URL"])
app = FastAPI()


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/environments")
def environments() -> list[dict[str, Any]]:
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM environments ORDER BY name"))
        return [dict(row) for row in rows.mappings()]
