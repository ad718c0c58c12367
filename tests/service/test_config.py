"""Settings: one object, read from STEPLADDER_* variables (and Pulumi's own passphrase ones)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from service.config import Settings


def test_pulumi_engine_refuses_an_empty_passphrase(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE", raising=False)
    with pytest.raises(ValueError, match="PULUMI_CONFIG_PASSPHRASE"):
        Settings(engine="pulumi").check_engine_ready()


def test_passphrase_from_pulumi_s_variable_or_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "correct horse")
    assert Settings(engine="pulumi").pulumi_passphrase() == "correct horse"
    Settings(engine="pulumi").check_engine_ready()

    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE")
    secret_file = tmp_path / "passphrase"
    secret_file.write_text("battery staple\n")
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE_FILE", str(secret_file))
    assert Settings(engine="pulumi").pulumi_passphrase() == "battery staple"


def test_kms_secrets_provider_or_explicit_local_opt_in_need_no_passphrase(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE", raising=False)
    Settings(
        engine="pulumi", pulumi_secrets_provider="awskms://alias/stepladder"
    ).check_engine_ready()
    Settings(engine="pulumi", allow_empty_passphrase=True).check_engine_ready()
    Settings(engine="simulator").check_engine_ready()


def test_no_backend_configured_means_the_default_one(tmp_path: Path) -> None:
    # The default, the app's PostgreSQL, is pulumi_backend.py's to resolve.
    assert Settings(data_dir=tmp_path).resolved_backend_url() is None
    assert Settings(pulumi_backend_url="s3://state").resolved_backend_url() == "s3://state"


def test_a_relative_file_backend_is_pinned_to_an_absolute_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The CLI runs in the stack's workspace folder; a relative path would point elsewhere there.
    monkeypatch.chdir(tmp_path)
    settings = Settings(pulumi_backend_url="file://./state?no_tmp_dir=true")

    assert settings.resolved_backend_url() == f"file://{tmp_path / 'state'}?no_tmp_dir=true"
    assert Settings(pulumi_backend_url="s3://bucket/x").resolved_backend_url() == "s3://bucket/x"


def test_serve_with_pulumi_engine_and_no_passphrase_exits_with_the_reason(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "service.cli", "serve"],
        env={
            "PATH": "/usr/bin:/bin",
            "STEPLADDER_ENGINE": "pulumi",
            "STEPLADDER_DATA_DIR": str(tmp_path),
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode != 0
    assert "passphrase" in completed.stderr
    assert "Traceback" not in completed.stderr
