"""Stack locks where the PostgreSQL backend keeps them: rows of its table, read and cleared as
the state role. (The same on the real CLI: tests/integration/test_pulumi_postgres_state.py.)"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import psycopg
import pytest

from db.engine import libpq_url
from db.roles import STATE_ROLE, as_user, ensure_app_login, grant_state_role
from service.engines.model import EngineError
from service.engines.pulumi_backend import postgres_backend
from service.engines.pulumi_locks import FileLocks, PostgresLocks, lock_store
from service.engines.pulumi_state import StackLock


@pytest.fixture
def locks(database_url: str) -> PostgresLocks:
    ensure_app_login(database_url, STATE_ROLE)
    grant_state_role(database_url, STATE_ROLE)
    backend = postgres_backend(as_user(database_url, STATE_ROLE, keep_password=False))
    store = lock_store(backend.url, backend.password)
    assert isinstance(store, PostgresLocks)
    return store


def _write(database_url: str, key: str, content: bytes) -> None:
    """A row as the CLI writes it: the file's path as the key, its bytes in base64."""
    data = json.dumps({"data": base64.b64encode(content).decode()})
    with psycopg.connect(libpq_url(database_url), autocommit=True) as connection:
        connection.execute(
            "INSERT INTO stepladder_pulumi.pulumi_state (key, data) VALUES (%s, %s)", (key, data)
        )


def _lock(pid: int) -> bytes:
    return json.dumps(
        {"pid": pid, "username": "ops", "hostname": "here", "timestamp": "2026-11-26T10:00:00Z"}
    ).encode()


def test_only_this_stacks_locks_are_read_and_one_is_cleared(
    locks: PostgresLocks, database_url: str
) -> None:
    folder = ".pulumi/locks/organization/stepladder"
    _write(database_url, f"{folder}/shop/a.json", _lock(11))
    _write(database_url, f"{folder}/shop/b.json", _lock(12))
    _write(database_url, f"{folder}/shop/half-written.json", b'{"pid": 1')
    _write(database_url, f"{folder}/shop_2/c.json", _lock(13))  # `_` is no wildcard here
    _write(database_url, f"{folder}/other/d.json", _lock(14))
    # Another backend URL with a path (the CLI's folder) in the same table: not ours.
    _write(database_url, f"elsewhere/{folder}/shop/e.json", _lock(15))

    found = locks.locks("stepladder", "shop")

    assert [(lock.pid, lock.describe()) for lock in found] == [
        (11, "ops@here (pid 11) since 2026-11-26T10:00:00Z"),
        (12, "ops@here (pid 12) since 2026-11-26T10:00:00Z"),
    ]
    locks.clear(found[0])
    assert [lock.pid for lock in locks.locks("stepladder", "shop")] == [12]
    assert [lock.pid for lock in locks.locks("stepladder", "shop_2")] == [13]


def test_an_unreachable_state_database_is_a_clear_engine_error(tmp_path: Path) -> None:
    store = PostgresLocks(f"postgres://stepladder_pulumi@/x?host={tmp_path}", "pw")

    with pytest.raises(EngineError) as failed:
        store.locks("stepladder", "shop")

    assert failed.value.code == "state_backend_unreachable"
    assert "pw" not in failed.value.message.replace("stepladder_pulumi", "")


def test_file_backends_keep_locks_as_files_and_others_have_no_store(tmp_path: Path) -> None:
    folder = tmp_path / ".pulumi" / "locks" / "organization" / "stepladder" / "shop"
    folder.mkdir(parents=True)
    (folder / "x.json").write_bytes(_lock(21))
    store = lock_store(f"file://{tmp_path}")
    assert isinstance(store, FileLocks)

    [lock] = store.locks("stepladder", "shop")
    assert lock == StackLock(str(folder / "x.json"), 21, "ops", "here", "2026-11-26T10:00:00Z")
    store.clear(lock)
    assert list(folder.iterdir()) == []
    assert lock_store("s3://bucket/state") is None
    assert lock_store("https://api.pulumi.com") is None
