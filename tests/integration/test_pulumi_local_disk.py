"""Nothing of Pulumi's state stays on the local disk, on the real CLI: each operation works in a
temporary folder, the stack's secrets provider comes from its state (in the database), and an
older version's workspace is taken over once and removed."""

from __future__ import annotations

import base64
import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pulumi
import pytest

from db.engine import libpq_url
from programs import EnvironmentSpec
from service.engines.model import StepRequest
from service.engines.protocol import PulumiOptions
from service.engines.pulumi_backend import StateBackend, pgpass_line
from service.engines.pulumi_engine import PulumiEngine
from service.engines.secrets import memory_file
from tests.e2e.conftest import Server
from tests.integration.aws_plugin.cloud import SimulatedAccount
from tests.integration.conftest import PASSPHRASE
from tests.integration.dynamic_things import Thing
from tests.integration.test_pulumi_engine import events, run
from tests.integration.test_pulumi_postgres_state import state
from tests.integration.test_pulumi_recovery import root

__all__ = ["root", "state"]
# Pulumi's marker of an encrypted value in a checkpoint.
SECRET_SIGNATURE = "4dabf18193072939515e22adb298388d"


def checkpoint(database_url: str, stack: str) -> dict[str, Any]:
    """The stack's checkpoint as the CLI keeps it: a row of the state table."""
    with psycopg.connect(libpq_url(database_url)) as connection:
        row = connection.execute(
            "SELECT data->>'data' FROM stepladder_pulumi.pulumi_state WHERE key = %s",
            (f".pulumi/stacks/stepladder/{stack}.json",),
        ).fetchone()
    assert row is not None, f"no checkpoint of {stack}"
    document: dict[str, Any] = json.loads(base64.b64decode(row[0]))
    checkpoint: dict[str, Any] = document["checkpoint"]
    return checkpoint


def salt(database_url: str, stack: str) -> str:
    latest = checkpoint(database_url, stack).get("latest") or {}
    provider = latest.get("secrets_providers") or {}
    assert provider.get("type") == "passphrase", provider
    return str(provider["state"]["salt"])


def files_under(folder: Path, *skipped: str) -> list[str]:
    """Every file below `folder`, but in the named top-level folders."""
    found = []
    for path in folder.rglob("*"):
        relative = path.relative_to(folder)
        if path.is_file() and relative.parts[0] not in skipped:
            found.append(str(relative))
    return sorted(found)


def test_a_tier_with_a_secret_deploys_and_updates_keeping_nothing_on_disk(
    pulumi_server: Callable[..., Server],
    simulated_aws: SimulatedAccount,
    tmp_path: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Tier 1 with a secondary region owns its database password: a secret in the state."""
    scratch = tmp_path / "scratch"  # the workers' temporary folders, to see what is left there
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    server = pulumi_server(data_dir=str(tmp_path / "data"))
    created = server.client.post(
        "/api/environments",
        json={"name": "vault", "region": "eu-west-1", "secondary_region": "us-east-1"},
    )
    assert created.status_code == 201, created.text

    for path in ("promote", "promote"):
        done = run(server, f"/api/environments/vault/{path}")
        assert done["status"] == "succeeded", done
    deployed_salt = salt(database_url, "vault")
    assert SECRET_SIGNATURE in json.dumps(checkpoint(database_url, "vault")["latest"])

    # A second operation, in a folder of its own: the state's secrets must decrypt there.
    refreshed = run(server, "/api/environments/vault/refresh")

    assert refreshed["status"] == "succeeded", (refreshed, events(server, refreshed["id"])[-3:])
    assert salt(database_url, "vault") == deployed_salt  # the same provider, not a new one
    pulumi_home = Path(os.environ["PULUMI_HOME"])
    # The CLI's plugins are programs, its logs diagnostics (encrypted, rotated by the CLI).
    assert files_under(pulumi_home, "plugins", "logs") == []
    assert files_under(tmp_path / "data", "pg") == []
    assert files_under(scratch) == []
    assert not list(tmp_path.rglob("Pulumi.*.yaml"))
    assert not [p for p in tmp_path.rglob(".pulumi") if "plugins" not in p.parts]


def secret_program(spec: EnvironmentSpec) -> None:
    Thing(f"{spec.name}-steady", {"generation": 0})
    pulumi.export("token", pulumi.Output.secret("kept-in-the-state"))


def _legacy_stack(backend: StateBackend, legacy: Path, database_url: str) -> str:
    """What an older version left: the stack made in a kept workspace folder, its salt in that
    folder's Pulumi.shop.yaml only. Today's CLI also puts it into the state at `stack init`;
    older ones wrote a checkpoint without a deployment, as left here."""
    folder = legacy / "shop"
    folder.mkdir(parents=True)
    (folder / "Pulumi.yaml").write_text("name: stepladder\nruntime: python\n")
    with (
        memory_file(PASSPHRASE, "passphrase") as passphrase,
        memory_file(pgpass_line(backend.password or ""), "pgpass") as pgpass,
    ):
        env = {**os.environ, "PULUMI_BACKEND_URL": backend.url,
               "PULUMI_CONFIG_PASSPHRASE_FILE": passphrase, "PGPASSFILE": pgpass}  # fmt: skip
        subprocess.run(
            ["pulumi", "stack", "init", "shop", "--secrets-provider", "passphrase",
             "--non-interactive", "--cwd", str(folder)],
            env=env, check=True, capture_output=True, text=True,
        )  # fmt: skip
    key = ".pulumi/stacks/stepladder/shop.json"
    with psycopg.connect(libpq_url(database_url)) as connection:
        encoded = json.dumps(
            {"version": 3, "checkpoint": {"stack": "organization/stepladder/shop"}}
        )
        connection.execute(
            "UPDATE stepladder_pulumi.pulumi_state SET data = jsonb_build_object('data', %s::text)"
            " WHERE key = %s",
            (base64.b64encode(encoded.encode()).decode(), key),
        )
    settings = (folder / "Pulumi.shop.yaml").read_text()
    return settings.split("encryptionsalt:", 1)[1].split()[0]


def test_an_older_workspace_s_salt_moves_into_the_state_and_its_folder_goes(
    root: Path, state: StateBackend, database_url: str
) -> None:
    legacy = root / "data" / "workspaces"
    kept_salt = _legacy_stack(state, legacy, database_url)
    assert "latest" not in checkpoint(database_url, "shop")  # the salt is in the file only
    options = PulumiOptions(
        state.url, None, PASSPHRASE, state.password, legacy_workspaces_dir=legacy
    )
    spec = EnvironmentSpec(name="shop", tier=0, region="eu-west-1")

    for _ in range(2):  # the second in a fresh folder, without the old one
        engine = PulumiEngine(options, program=secret_program)
        try:
            result = engine.run_step(StepRequest(action="up", spec=spec, to_tier=0), [], print)
        finally:
            engine.close()
        assert salt(database_url, "shop") == kept_salt
        assert not (legacy / "shop").exists()
        assert result.outputs == {"token": "[secret]"}
    assert SECRET_SIGNATURE in json.dumps(checkpoint(database_url, "shop")["latest"])
