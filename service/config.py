"""The one settings object: every `STEPLADDER_*` variable, read once.

Nothing else reads os.environ.
"""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, IPvAnyNetwork, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from service.observability.logs import LogFormat

EngineName = Literal["simulator", "pulumi"]
# Unless set: a real cloud is checked daily; the simulator's drifts only when an admin says so.
DEFAULT_DRIFT_CHECK_MINUTES: dict[str, int] = {"pulumi": 24 * 60, "simulator": 0}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="STEPLADDER_", extra="ignore", populate_by_name=True
    )

    data_dir: Path = Field(
        default=Path(".stepladder"),
        description="Where the embedded database and the Pulumi workspaces live.",
    )
    database_url: SecretStr | None = Field(
        default=None,
        description="PostgreSQL URL; unset means the embedded server under the data dir.",
    )
    migration_database_url: SecretStr | None = Field(
        default=None,
        description="The schema owner's login, for migrations only; the service itself then "
        "runs as database_url's login, which may not alter or empty the audit log.",
    )
    engine: EngineName = Field(
        default="simulator", description="`simulator` (no cloud calls) or `pulumi` (real AWS)."
    )
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "info"
    log_format: LogFormat = Field(
        default="text",
        description="`text` (readable on a terminal) or `json` (one object per line, with the "
        "request id, operation id and environment, for log shippers).",
    )

    tls_certificate_file: Path | None = Field(
        default=None,
        description="PEM certificate (with its chain) for serving HTTPS directly; needs "
        "tls_key_file. Unset: plain HTTP, for a TLS-terminating proxy in front.",
    )
    tls_key_file: Path | None = Field(
        default=None, description="The PEM private key of tls_certificate_file."
    )
    redirect_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="With TLS served directly: a second port (80 in production) where plain "
        "HTTP is answered with a redirect to HTTPS.",
    )
    https_redirect: bool = Field(
        default=False,
        description="Answer a request that arrived over plain HTTP (as the service or a trusted "
        "proxy saw it) with a redirect to HTTPS; /healthz stays plain for health checks.",
    )
    trusted_proxies: Annotated[list[IPvAnyNetwork], NoDecode] = Field(
        default_factory=list,
        description="Addresses or networks (comma-separated, 10.0.0.0/8) of the TLS-terminating "
        "proxies whose X-Forwarded-For and X-Forwarded-Proto are believed; from anyone else "
        "those headers are ignored.",
    )
    login_failures_before_delay: int = Field(
        default=3,
        ge=1,
        description="Failed logins (web or bearer token) from one address before each further "
        "failure is answered more slowly.",
    )
    login_failures_before_lockout: int = Field(
        default=10,
        ge=1,
        description="Failed logins from one address after which every login from it is refused "
        "(429, Retry-After) until the window ends; other addresses are unaffected.",
    )
    login_failure_window_minutes: float = Field(
        default=15, gt=0, description="How long failed logins from an address are counted."
    )
    login_delay_seconds: float = Field(
        default=1.0,
        ge=0,
        description="The first slowed failure's delay; each further one doubles it, up to 8x.",
    )

    price_file: Path | None = Field(
        default=None,
        description="A JSON price book (the shipped one's format) whose prices override or add "
        "to the shipped list prices, entry by key and region; see docs/costs.md.",
    )
    rate_limit_per_minute: int = Field(
        default=30, ge=1, description="Operation requests one caller may make per minute."
    )
    worker_concurrency: int = Field(
        default=4, ge=1, description="Operations one worker runs at once (different environments)."
    )
    cancel_grace_seconds: float = Field(
        default=30.0,
        gt=0,
        description="After SIGINT, how long a cancelled simulator engine may take.",
    )
    pulumi_cancel_grace_seconds: float = Field(
        default=3600.0,
        gt=0,
        description="After SIGINT, how long the Pulumi CLI may take to stop: it waits for the "
        "resource operations in flight (an Aurora or ElastiCache create takes 10-40 minutes), "
        "and SIGKILL before then leaves a lock and pending creates.",
    )
    worker_poll_seconds: float = Field(
        default=1.0,
        gt=0,
        description="How often a worker looks for jobs whose environment lock has freed.",
    )
    schedule_tick_seconds: float = Field(
        default=15, gt=0, description="How often workers look for due schedules."
    )
    heartbeat_seconds: float = Field(default=10.0, gt=0)
    drift_check_interval: int | None = Field(
        default=None,
        ge=0,
        description="Minutes between automatic drift checks of each deployed environment; "
        "0: none. Unset: 1440 (a day) for the pulumi engine, none for the simulator, whose "
        "cloud drifts only when told to.",
    )
    engine_fork_server: bool = Field(
        default=True,
        description="Fork engine processes from a process that has imported Pulumi once, "
        "instead of starting Python for each; off, or if it fails, each starts directly.",
    )
    stalled_worker_seconds: float = Field(
        default=60.0, gt=0, description="A worker silent this long is presumed dead."
    )
    simulator_seconds_per_resource: float = Field(
        default=0.05, ge=0, description="Pacing of the simulator's events, for a readable log."
    )

    secret_key: SecretStr | None = Field(
        default=None,
        description="The key that seals secrets the service must read back (webhook signing "
        "secrets); unset: a key file in the data dir. Give every machine the same one.",
    )
    webhook_max_attempts: int = Field(
        default=6, ge=1, le=20, description="Attempts at one webhook delivery before giving up."
    )
    webhook_retry_seconds: float = Field(
        default=30.0,
        ge=0,
        description="Wait before a delivery's second attempt; each later wait doubles.",
    )
    webhook_timeout_seconds: float = Field(
        default=10.0, gt=0, description="How long a receiver may take to answer."
    )

    bootstrap_token: SecretStr | None = Field(
        default=None,
        description="The first admin token, set explicitly (automation, tests); unset means "
        "a random one is made on first start, printed once and written to the data dir.",
    )

    approval_hours: float = Field(
        default=24, gt=0, description="How long an operation may wait for its approval."
    )
    session_hours: float = Field(default=12, gt=0, description="How long a web login lasts.")
    trusted_user_header: str | None = Field(
        default=None,
        description="Header in which an SSO reverse proxy (oauth2-proxy) names the user; only "
        "set it when that proxy is the sole way in.",
    )
    sso_roles: dict[str, str] = Field(
        default_factory=dict,
        description='Roles of SSO users, as JSON: {"alice@example.com": "admin"}.',
    )
    sso_default_role: str | None = Field(
        default=None, description="Role of SSO users not in sso_roles; unset refuses them."
    )

    pulumi_backend_url: str | None = Field(
        default=None,
        description="Pulumi state backend: postgres://..., s3://..., https://api.pulumi.com, "
        "or file://...; unset means the table stepladder_pulumi.pulumi_state of the app's own "
        "PostgreSQL, used as the state role (see pulumi_database_url).",
    )
    pulumi_database_url: SecretStr | None = Field(
        default=None,
        description="The Pulumi state role's login (postgresql://stepladder_pulumi:...@host/db), "
        "for the default backend on an external database; unset means that role on the app's "
        "own connection, without a password (the embedded server needs none).",
    )
    pulumi_history_kept: int = Field(
        default=10,
        ge=0,
        description="Updates of each stack whose history (a full checkpoint copy each) a DIY "
        "backend keeps; older ones are deleted after each operation. 0 keeps them all.",
    )
    pulumi_secrets_provider: str | None = Field(
        default=None,
        description="Pulumi secrets provider (awskms://..., hashivault://...); unset means "
        "the passphrase provider.",
    )
    # Pulumi's own variable names are accepted too, so existing setups keep working.
    pulumi_config_passphrase: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "STEPLADDER_PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE"
        ),
    )
    pulumi_config_passphrase_file: Path | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "STEPLADDER_PULUMI_CONFIG_PASSPHRASE_FILE", "PULUMI_CONFIG_PASSPHRASE_FILE"
        ),
    )
    allow_empty_passphrase: bool = Field(
        default=False,
        description="Local experiments only: let the pulumi engine run with an empty passphrase.",
    )
    aws_endpoint_url: str | None = Field(
        default=None, description="An AWS-compatible endpoint (moto, LocalStack) instead of AWS."
    )

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    def serves_tls(self) -> bool:
        return self.tls_certificate_file is not None

    def drift_check_every(self) -> timedelta | None:
        """How often each deployed environment is checked for drift; None: never."""
        minutes = self.drift_check_interval
        if minutes is None:
            minutes = DEFAULT_DRIFT_CHECK_MINUTES[self.engine]
        return timedelta(minutes=minutes) if minutes else None

    def cancel_grace_for(self, engine: str) -> float:
        """How long an interrupted engine of this kind may take before it is killed."""
        return self.pulumi_cancel_grace_seconds if engine == "pulumi" else self.cancel_grace_seconds

    def resolved_data_dir(self) -> Path:
        return self.data_dir.expanduser().resolve()

    def admin_token_file(self) -> Path:
        """Where a created bootstrap token is kept: the console names the file it is written to."""
        return self.resolved_data_dir() / "admin-token"

    def resolved_backend_url(self) -> str | None:
        """The configured backend, with a `file://` folder made absolute: the CLI would resolve
        a relative one against the stack's workspace folder, our own code against the current
        one. None means the default, the app's PostgreSQL (see pulumi_backend.py)."""
        url = self.pulumi_backend_url
        if url is None or not url.startswith("file://"):
            return url
        path, separator, query = url.removeprefix("file://").partition("?")
        return f"file://{Path(path).expanduser().resolve()}{separator}{query}"

    def pulumi_passphrase(self) -> str | None:
        """The passphrase from the variable or the file; None when neither is set."""
        if self.pulumi_config_passphrase is not None:
            return self.pulumi_config_passphrase.get_secret_value()
        if self.pulumi_config_passphrase_file is not None:
            return self.pulumi_config_passphrase_file.read_text().strip()
        return None

    def check_engine_ready(self) -> None:
        """Refuse to start the pulumi engine with state that anyone could decrypt."""
        if self.engine != "pulumi" or self.pulumi_secrets_provider:
            return
        if not self.pulumi_passphrase() and not self.allow_empty_passphrase:
            raise ValueError(
                "The pulumi engine encrypts stack secrets with a passphrase, and none is set. "
                "Set PULUMI_CONFIG_PASSPHRASE (or _FILE), or STEPLADDER_PULUMI_SECRETS_PROVIDER "
                "(awskms://...); for local experiments only, "
                "STEPLADDER_ALLOW_EMPTY_PASSPHRASE=true."
            )


@lru_cache
def get_settings() -> Settings:
    return Settings()
