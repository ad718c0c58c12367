"""The integration suite: the real Pulumi CLI (built by `make pulumi-cli`) and the simulated
`aws` provider plugin, with a private PULUMI_HOME per test and the default state backend, the
test database's Pulumi state table.

`make test` puts the CLI on PATH. Where there is none, these tests skip with the reason;
`.ci/run` sets STEPLADDER_PULUMI_TESTS_REQUIRED=1, which turns a missing CLI into a failure.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from db.engine import libpq_url
from db.roles import STATE_ROLE, ensure_app_login
from tests.e2e.conftest import Server, start_server
from tests.integration.aws_plugin.cloud import SimulatedAccount
from tests.integration.aws_plugin.install import install_simulated_aws
from tests.integration.stacks import PreparedStack, prepared_stack

REQUIRED = os.environ.get("STEPLADDER_PULUMI_TESTS_REQUIRED") == "1"
NO_CLI_REASON = (
    "needs the Pulumi CLI on PATH: `make test` builds it from Go modules (tools/pulumi-cli); "
    "this machine has no Go toolchain"
)
PASSPHRASE = "integration-tests"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Every step is a real CLI run; pyproject's 300 s per test is for the rest of the suite.
    for item in items:
        if "tests/integration" in str(item.fspath) and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(1200))


@pytest.fixture
def simulated_aws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SimulatedAccount:
    """A private PULUMI_HOME holding only the simulated `aws` plugin, and its account."""
    if shutil.which("pulumi") is None:
        if REQUIRED:
            pytest.fail("the Pulumi CLI is required here (STEPLADDER_PULUMI_TESTS_REQUIRED=1)")
        pytest.skip(NO_CLI_REASON)
    home = tmp_path / "pulumi-home"
    account = SimulatedAccount(tmp_path / "simulated-aws")
    install_simulated_aws(home, account.root)
    monkeypatch.setenv("PULUMI_HOME", str(home))
    # Offline: no update check, no plugin download (the real `aws` plugin must never appear).
    monkeypatch.setenv("PULUMI_SKIP_UPDATE_CHECK", "true")
    monkeypatch.setenv("PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION", "true")
    monkeypatch.delenv("PULUMI_BACKEND_URL", raising=False)
    monkeypatch.delenv("PULUMI_ACCESS_TOKEN", raising=False)
    return account


@pytest.fixture
def pulumi_server(
    start_server: Callable[..., Server], simulated_aws: SimulatedAccount, database_url: str
) -> Callable[..., Server]:
    """Starts `stepladder serve` with the pulumi engine against the simulated AWS."""
    ensure_app_login(database_url, STATE_ROLE)  # the state role, as a DBA creates it

    def start(**settings: str) -> Server:
        server = start_server(
            engine="pulumi",
            pulumi_config_passphrase=PASSPHRASE,
            cancel_grace_seconds="120",
            heartbeat_seconds="1",
            stalled_worker_seconds="60",
            **settings,
        )
        # Planning a high tier runs the program under mocks in the request; on a busy shared
        # machine that has taken over the e2e client's 30 s.
        server.client.timeout = httpx.Timeout(180)
        return server

    return start


@pytest.fixture
def prepare_stack(
    simulated_aws: SimulatedAccount, run_root: Path, database_server_url: str
) -> Callable[[dict[str, Any], int], PreparedStack]:
    """`prepare_stack(definition, tier)`: that stack deployed straight to `tier`, once per run
    (tests/integration/stacks.py); import it into the test's own database and account."""

    def prepare(definition: dict[str, Any], tier: int) -> PreparedStack:
        return prepared_stack(
            definition, tier, run_root=run_root, server_url=database_server_url,
            passphrase=PASSPHRASE,
        )  # fmt: skip

    return prepare


__all__ = ["Server", "prepare_stack", "pulumi_server", "simulated_aws", "start_server"]


def state_keys(database_url: str, pattern: str) -> list[str]:
    """Keys of the default backend's table (`.pulumi/stacks/...`, `.pulumi/locks/...`) that
    are LIKE `pattern`."""
    with psycopg.connect(libpq_url(database_url)) as connection:
        rows = connection.execute(
            "SELECT key FROM stepladder_pulumi.pulumi_state WHERE key LIKE %s ORDER BY key",
            (pattern,),
        ).fetchall()
    return [row[0] for row in rows]
