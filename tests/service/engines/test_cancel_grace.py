"""The pulumi engine's cancel grace fits its slowest resource, and it is configurable."""

from __future__ import annotations

import pytest

from service.config import Settings

# An Aurora cluster or ElastiCache replication group create takes 10-40 minutes; SIGKILL before
# the CLI finishes it leaves a lock and a pending create.
SLOWEST_CREATE_SECONDS = 40 * 60


def test_the_pulumi_engine_may_finish_its_slowest_create_before_it_is_killed() -> None:
    settings = Settings()

    assert settings.cancel_grace_for("pulumi") > SLOWEST_CREATE_SECONDS
    assert settings.cancel_grace_for("simulator") == settings.cancel_grace_seconds


def test_the_grace_is_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEPLADDER_PULUMI_CANCEL_GRACE_SECONDS", "7200")

    assert Settings().cancel_grace_for("pulumi") == 7200
