"""The one settings object: every `STEPLADDER_*` variable, read once.

Nothing else reads os.environ.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

EngineName = Literal["simulator", "pulumi"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="STEPLADDER_", extra="ignore")

    data_dir: Path = Field(
        default=Path(".stepladder"),
        description="Where the embedded database, Pulumi state and workspaces live.",
    )
    database_url: SecretStr | None = Field(
        default=None,
        description="PostgreSQL URL; unset means the embedded server under the data dir.",
    )
    engine: EngineName = Field(
        default="simulator", description="`simulator` (no cloud calls) or `pulumi` (real AWS)."
    )
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "info"

    worker_concurrency: int = Field(
        default=4, ge=1, description="Operations one worker runs at once (different environments)."
    )
    cancel_grace_seconds: float = Field(
        default=30.0, gt=0, description="After SIGINT, how long a cancelled engine may take."
    )
    worker_poll_seconds: float = Field(
        default=1.0,
        gt=0,
        description="How often a worker looks for jobs whose environment lock has freed.",
    )
    heartbeat_seconds: float = Field(default=10.0, gt=0)
    stalled_worker_seconds: float = Field(
        default=60.0, gt=0, description="A worker silent this long is presumed dead."
    )
    simulator_seconds_per_resource: float = Field(
        default=0.05, ge=0, description="Pacing of the simulator's events, for a readable log."
    )

    pulumi_backend_url: str | None = None
    aws_endpoint_url: str | None = None

    def resolved_data_dir(self) -> Path:
        return self.data_dir.expanduser().resolve()


@lru_cache
def get_settings() -> Settings:
    return Settings()
