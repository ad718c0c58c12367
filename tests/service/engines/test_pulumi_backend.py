"""The default Pulumi state backend: the app's PostgreSQL, as the state role, with the password
kept out of the URL and out of every environment."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from pydantic import SecretStr

from service.config import Settings
from service.engines.engine_process import child_environment
from service.engines.protocol import PulumiOptions
from service.engines.pulumi_backend import postgres_backend, state_backend
from service.engines.pulumi_engine import PulumiEngine

EMBEDDED_APP = "postgresql+psycopg://stepladder_app@/stepladder?host=/data/postgres"
TABLE = "table=stepladder_pulumi.pulumi_state"


def test_by_default_the_state_lives_in_the_app_s_database_as_the_state_role() -> None:
    backend = state_backend(Settings(), EMBEDDED_APP)

    # The database in the query: keys carry no database name, so a restore may rename it.
    assert backend.url == (
        f"postgres://stepladder_pulumi@?dbname=stepladder&host=%2Fdata%2Fpostgres&{TABLE}"
    )
    assert backend.password is None  # the embedded server's socket needs none


def test_the_app_s_password_is_never_lent_to_the_state_role() -> None:
    app = "postgresql+psycopg://stepladder_app:app-secret@db.internal:5432/stepladder"

    backend = state_backend(Settings(database_url=SecretStr(app)), app)

    assert backend.url == f"postgres://stepladder_pulumi@db.internal:5432?dbname=stepladder&{TABLE}"
    assert backend.password is None


def test_the_state_login_s_password_is_kept_apart_from_the_url() -> None:
    login = "postgresql://stepladder_pulumi:s3cr%3At@db.internal/stepladder?sslmode=require"
    settings = Settings(pulumi_database_url=SecretStr(login))

    backend = state_backend(settings, "postgresql://stepladder_app@db.internal/stepladder")

    assert "s3cr" not in backend.url
    assert backend.url.startswith("postgres://stepladder_pulumi@db.internal?dbname=stepladder&")
    assert "sslmode=require" in backend.url and TABLE in backend.url
    assert backend.password == "s3cr:t"


def test_a_configured_backend_wins(tmp_path: Path) -> None:
    for url in ("s3://bucket/state", f"file://{tmp_path}", "https://api.pulumi.com"):
        settings = Settings(pulumi_backend_url=url, pulumi_database_url=SecretStr("postgresql://x"))
        assert state_backend(settings, EMBEDDED_APP).url == url
        assert state_backend(settings, EMBEDDED_APP).password is None


def test_the_cli_gets_the_state_password_as_a_pgpass_file_only_its_owner_reads(
    tmp_path: Path,
) -> None:
    backend = postgres_backend("postgresql://stepladder_pulumi:pa:ss\\word@db/stepladder")
    options = PulumiOptions(backend.url, None, "hunter2", backend.password)
    engine = PulumiEngine(options)
    try:
        env = engine.env

        assert "pa:ss" not in "".join(env.values())
        assert env["PULUMI_BACKEND_URL"] == backend.url
        path = env["PGPASSFILE"]
        assert path.startswith(f"/proc/{os.getpid()}/fd/")
        assert os.stat(path).st_mode & 0o077 == 0  # drivers ignore a pgpass others may read
        read = subprocess.run(["cat", path], capture_output=True, text=True, check=True)
        assert read.stdout == "*:*:*:*:pa\\:ss\\\\word\n"
        assert "pa:ss\\word" in options.secrets()  # masked in any CLI output shown
    finally:
        engine.close()
    assert not Path(path).exists()


def test_the_engine_process_inherits_no_database_login() -> None:
    worker = {
        "PATH": "/usr/bin",
        "STEPLADDER_PULUMI_DATABASE_URL": "postgresql://stepladder_pulumi:pw@db/x",
        "STEPLADDER_DATABASE_URL": "postgresql://stepladder_app:pw@db/x",
        "STEPLADDER_MIGRATION_DATABASE_URL": "postgresql://owner:pw@db/x",
    }

    assert child_environment(worker) == {"PATH": "/usr/bin"}
