"""`stepladder stack-config`: the config `programs/` reads back is the spec the service runs."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pulumi
import pytest
import yaml
from pulumi.runtime import config as runtime_config
from sqlalchemy import Engine

from db.engine import session_scope
from db.models import Environment
from programs import EnvironmentSpec
from programs.config import spec_from_config
from service.engines.stack_config import write_stack_config

SPEC = EnvironmentSpec(
    name="acme", tier=7, region="eu-west-1", secondary_region="us-east-1",
    federated_databases=("users", "orders"), hosted_zone_id="Z0EXAMPLE",
    domain_name="shop.example.com", web_min=3, protected=True,
    snapshot_stamp="20261127-040000",
)  # fmt: skip


@pytest.fixture
def clean_config() -> Iterator[None]:
    yield
    runtime_config.set_all_config({})


def test_the_written_config_reads_back_as_the_same_spec(tmp_path: Path, clean_config: None) -> None:
    written = write_stack_config(SPEC, programs_dir=tmp_path)

    document = yaml.safe_load(written.read_text())
    assert written.name == "Pulumi.acme.yaml"
    assert "encryptionsalt" not in document  # the CLI takes the state's own, see the command
    runtime_config.set_all_config({key: str(value) for key, value in document["config"].items()})
    assert spec_from_config(pulumi.Config("stepladder"), "acme") == SPEC


def test_the_command_writes_the_deployed_environments_stack_and_prints_the_backend(
    tmp_path: Path, database_url: str, db_engine: Engine, clean_config: None
) -> None:
    with session_scope(db_engine) as session:
        session.add(Environment(name="handrun", region="eu-west-2", applied_tier=1,
                                engine="pulumi", web_min=3))  # fmt: skip
    environment = {**os.environ, "STEPLADDER_DATABASE_URL": database_url,
                   "STEPLADDER_DATA_DIR": str(tmp_path / "data")}  # fmt: skip

    def stack_config(name: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "service.cli", "stack-config", name, "--dir", str(tmp_path)],
            env=environment, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip

    done = stack_config("handrun")

    assert done.returncode == 0, done.stderr
    # The default backend: the state table of the service's own database, no password in it.
    assert "PULUMI_BACKEND_URL='postgres://stepladder_pulumi@" in done.stdout
    assert "table=stepladder_pulumi.pulumi_state'" in done.stdout
    assert "export PULUMI_FALLBACK_TO_STATE_SECRETS_MANAGER=true" in done.stdout
    document = yaml.safe_load((tmp_path / "Pulumi.handrun.yaml").read_text())
    runtime_config.set_all_config({key: str(value) for key, value in document["config"].items()})
    spec = spec_from_config(pulumi.Config("stepladder"), "handrun")
    assert (spec.name, spec.tier, spec.region, spec.web_min) == ("handrun", 1, "eu-west-2", 3)
    missing = stack_config("nowhere")
    assert missing.returncode != 0 and "no environment called 'nowhere'" in missing.stderr
