"""What can be checked of the image and the compose file without a Docker engine."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from service.config import Settings

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"\$\{([A-Z_]+)(?::\?[^}]*)?\}")


def compose() -> dict[str, Any]:
    parsed: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return parsed


def setting_names() -> set[str]:
    """Every environment variable Settings reads: prefix and field name, or an alias."""
    names = set()
    for name, field in Settings.model_fields.items():
        names.add(f"STEPLADDER_{name.upper()}")
        choices = getattr(field.validation_alias, "choices", [])
        names.update(choice.upper() for choice in choices if isinstance(choice, str))
    return names


def test_compose_has_postgres_an_api_and_two_workers() -> None:
    services = compose()["services"]
    commands = [service.get("command") for service in services.values()]

    assert "postgres" in services
    assert commands.count(["stepladder", "serve"]) == 1
    assert commands.count(["stepladder", "worker"]) == 2


def test_every_stepladder_variable_in_compose_is_a_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    known = setting_names()
    for name, service in compose()["services"].items():
        if name == "postgres":
            continue
        environment: dict[str, str] = service["environment"]
        unknown = [key for key in environment if key.startswith("STEPLADDER_") and key not in known]
        assert unknown == [], f"{name} sets variables Settings does not read: {unknown}"
        # The values, placeholders filled in, must also be valid settings.
        for key, value in environment.items():
            monkeypatch.setenv(key, PLACEHOLDER.sub("x", str(value)))
        assert Settings().engine == "pulumi"


def test_compose_reads_the_passphrase_from_a_secret() -> None:
    parsed = compose()
    for name, service in parsed["services"].items():
        if name == "postgres":
            continue
        environment = service["environment"]
        assert "STEPLADDER_PULUMI_CONFIG_PASSPHRASE" not in environment
        secret_file = environment["STEPLADDER_PULUMI_CONFIG_PASSPHRASE_FILE"]
        secret = secret_file.removeprefix("/run/secrets/")
        assert secret in service["secrets"] and secret in parsed["secrets"]


def test_image_declares_the_data_dir_a_volume_and_runs_under_tini() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    data_dir = re.search(r"STEPLADDER_DATA_DIR=(\S+)", dockerfile)

    assert data_dir is not None
    assert f"VOLUME {data_dir.group(1)}\n" in dockerfile
    assert 'ENTRYPOINT ["tini", "--"]' in dockerfile
    assert (
        'HEALTHCHECK --interval=30s --timeout=10s --start-period=60s CMD ["stepladder", "healthcheck"]'
        in dockerfile
    )
    # Runtime dependencies only, pinned with hashes.
    assert "pip install --no-cache-dir --require-hashes -r requirements/runtime.txt" in dockerfile
    runtime = (ROOT / "requirements" / "runtime.txt").read_text().lower()
    for tool in ("pytest", "moto", "mypy", "ruff", "playwright"):
        assert f"\n{tool}==" not in runtime
