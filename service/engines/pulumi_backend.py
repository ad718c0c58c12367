"""Where the Pulumi engine keeps stack state: by default, the app's own PostgreSQL.

The CLI's PostgreSQL DIY backend (`postgres://`, pulumi/pulumi#19581) keeps every state file,
history entry and lock as one row (key, base64 blob) of one table. Stepladder's is
`stepladder_pulumi.pulumi_state`, made by the migrations, and the CLI reaches it as the state
role, which may use that table only (`db/roles.py`). Workers on any machine then share every
stack, and one database backup holds definitions, operations, audit and state together.

The URL handed to the CLI never carries a password: the CLI repeats its URL in errors, and the
Automation API writes it into the workspace's Pulumi.yaml. The password reaches the CLI as a
pgpass file in memory (`PulumiEngine.env`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import make_url

from db.roles import STATE_ROLE, STATE_SCHEMA, STATE_TABLE, as_user
from service.config import Settings


@dataclass(frozen=True)
class StateBackend:
    url: str
    password: str | None = None


def state_backend(settings: Settings, app_database_url: str) -> StateBackend:
    """The configured backend; otherwise the state table on the app's own server, as the state
    role: the login STEPLADDER_PULUMI_DATABASE_URL gives, else that role on the app's own
    connection without a password (the embedded server's Unix socket needs none)."""
    configured = settings.resolved_backend_url()
    if configured is not None:
        return StateBackend(configured)
    if settings.pulumi_database_url is not None:
        return postgres_backend(settings.pulumi_database_url.get_secret_value())
    return postgres_backend(as_user(app_database_url, STATE_ROLE, keep_password=False))


def postgres_backend(login_url: str) -> StateBackend:
    """The CLI's `postgres://` URL for a login, naming our table; its password kept apart.

    The database goes in the query, not the path: the CLI prefixes every key with the URL's
    path, so state keyed under a database's name would look empty after a restore into a
    database of another name."""
    login = make_url(login_url)
    database = {"dbname": login.database} if login.database else {}
    # `_replace`: `URL.set` leaves a field alone when given None.
    url = (
        login.set(drivername="postgres")
        ._replace(password=None, database=None)
        .update_query_dict({**database, "table": f"{STATE_SCHEMA}.{STATE_TABLE}"})
    )
    return StateBackend(url.render_as_string(hide_password=False), login.password or None)


def pgpass_line(password: str) -> str:
    """A pgpass file's one line: this password for any server, database and user."""
    escaped = password.replace("\\", "\\\\").replace(":", "\\:")
    return f"*:*:*:*:{escaped}\n"
