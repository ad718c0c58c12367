"""The `stepladder` command as a person at a console meets it."""

from __future__ import annotations

import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from db.engine import libpq_url
from tests.live import clean_environment, free_port, live_server

STEPLADDER = [sys.executable, "-m", "service.cli"]


@pytest.fixture
def console_env(tmp_path: Path, database_url: str) -> dict[str, str]:
    return {
        "STEPLADDER_DATABASE_URL": database_url,
        "STEPLADDER_DATA_DIR": str(tmp_path / "data"),
        "STEPLADDER_SIMULATOR_SECONDS_PER_RESOURCE": "0",
    }


def stepladder(
    env: dict[str, str], *arguments: str, check: bool = True
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*STEPLADDER, *arguments],
        env=clean_environment(env),
        capture_output=True,
        text=True,
        timeout=120,
        check=check,
    )


def test_first_start_prints_the_admin_token_boxed_after_the_server_is_up(
    console_env: dict[str, str], tmp_path: Path
) -> None:
    port = free_port()
    with live_server([*STEPLADDER, "serve"], console_env, port=port) as server:
        server.read_until(lambda line: "Stepladder created an admin token" in line)
        box_bottom = server.read_until(lambda line: line.startswith("+-"))

        secret = (tmp_path / "data" / "admin-token").read_text().strip()
        console = server.console
        listening = console.index(f"listening on http://127.0.0.1:{port}")
        assert console.index("Application startup complete") < listening
        assert listening < console.index("created an admin token")
        box = console[console.rindex("+-", 0, console.index("created an admin token")) :]
        assert f"| {secret}" in box and box.endswith(box_bottom)
        assert console.count(secret) == 1
        # No INFO chatter from the embedded database or Alembic on the console.
        assert "alembic" not in console.lower() and "pgserver" not in console.lower()


def test_serve_on_a_taken_port_exits_at_once_with_one_line(console_env: dict[str, str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        result = stepladder(console_env, "serve", "--port", str(port), check=False)

    assert result.returncode != 0
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in lines[0]


def test_token_errors_are_one_line_without_a_traceback(console_env: dict[str, str]) -> None:
    stepladder(console_env, "token", "create", "--name", "ci", "--role", "viewer")

    duplicate = stepladder(
        console_env, "token", "create", "--name", "ci", "--role", "viewer", check=False
    )
    unknown = stepladder(console_env, "token", "revoke", "nobody", check=False)

    assert duplicate.returncode == 1
    assert duplicate.stderr == "stepladder: A token named 'ci' already exists.\n"
    assert unknown.returncode == 1
    assert unknown.stderr == "stepladder: There is no token named 'nobody'.\n"


def test_token_create_prints_the_secret_and_one_note_only(console_env: dict[str, str]) -> None:
    created = stepladder(console_env, "token", "create", "--name", "ci", "--role", "viewer")

    assert created.stdout.startswith("slp_") and created.stdout.count("\n") == 1
    assert created.stderr == "token 'ci' (viewer): shown once, keep it safe\n"


@pytest.mark.parametrize("expires", ["90", "90d"])
def test_expires_counts_days(console_env: dict[str, str], database_url: str, expires: str) -> None:
    stepladder(
        console_env, "token", "create", "--name", "ci", "--role", "viewer", "--expires", expires
    )

    with psycopg.connect(libpq_url(database_url)) as connection:
        row = connection.execute(
            "SELECT expires_at - created_at FROM api_tokens WHERE name = 'ci'"
        ).fetchone()
    assert row is not None
    assert timedelta(days=90) - row[0] < timedelta(minutes=1)


def test_expires_refuses_other_units(console_env: dict[str, str]) -> None:
    result = stepladder(
        console_env, "token", "create", "--name", "ci", "--role", "viewer", "--expires", "3m",
        check=False,
    )  # fmt: skip

    assert result.returncode == 1
    assert result.stderr == "stepladder: --expires takes a number of days, such as 90 or 90d\n"


def test_invalid_token_fields_are_one_line_naming_the_field(console_env: dict[str, str]) -> None:
    result = stepladder(
        console_env, "token", "create", "--name", "ci", "--role", "viewer", "--scope", "dev prod",
        check=False,
    )  # fmt: skip

    assert result.returncode == 1
    assert result.stderr.startswith("stepladder: scope: must be an environment-name glob")
    assert result.stderr.count("\n") == 1


def test_an_unreachable_database_is_one_line(console_env: dict[str, str]) -> None:
    unreachable = {
        **console_env,
        "STEPLADDER_DATABASE_URL": f"postgresql://x@127.0.0.1:{free_port()}/x",
    }

    result = stepladder(unreachable, "token", "list", check=False)

    assert result.returncode == 1
    assert result.stderr.startswith("stepladder: cannot use the database: ")
    assert result.stderr.count("\n") == 1, result.stderr
