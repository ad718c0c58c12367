"""Three database logins: an owner that migrates, the app's role that only uses the tables, and
the Pulumi state role that only uses the Pulumi state table.

The app's role owns nothing, is no superuser and may not TRUNCATE, so neither it nor anyone who
takes over the app can switch off the audit log's append-only trigger
(`ALTER TABLE ... DISABLE TRIGGER`, `session_replication_role`) or empty the log: on
`audit_records` it may only INSERT and SELECT.

The embedded server gets both roles automatically. For an external server the DBA creates the
app's login once (see README: "An external database"), migrations run with the owner's login
(`STEPLADDER_MIGRATION_DATABASE_URL`), and the service with the app's (`STEPLADDER_DATABASE_URL`).

The Pulumi CLI reaches its state as the state role: it may read and write the rows of
`stepladder_pulumi.pulumi_state` and nothing else, so a leaked state login reads no definition,
token or audit record, and the app's role cannot rewrite stack state.
"""

from __future__ import annotations

import contextlib

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from db.engine import libpq_url

APP_ROLE = "stepladder_app"
APPEND_ONLY_TABLES = ("audit_records",)
STATE_ROLE = "stepladder_pulumi"
STATE_SCHEMA = "stepladder_pulumi"
STATE_TABLE = "pulumi_state"


def grant_app_role(owner_url: str, role: str) -> None:
    """Let `role` read and write every table the migrations made, except that it may only
    append to the audit log; run as the owner after every migration."""
    name = sql.Identifier(role)
    with psycopg.connect(libpq_url(owner_url), autocommit=True) as connection:
        connection.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(name))
        connection.execute(
            sql.SQL(
                "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}"
            ).format(name)
        )
        connection.execute(
            sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}").format(name)
        )
        for table in APPEND_ONLY_TABLES:
            connection.execute(
                sql.SQL("REVOKE UPDATE, DELETE, TRUNCATE, TRIGGER ON {} FROM {}").format(
                    sql.Identifier(table), name
                )
            )


def grant_state_role(owner_url: str, role: str) -> None:
    """Let `role` use the Pulumi state table's rows, and nothing else; run as the owner after
    every migration."""
    name = sql.Identifier(role)
    table = sql.Identifier(STATE_SCHEMA, STATE_TABLE)
    with psycopg.connect(libpq_url(owner_url), autocommit=True) as connection:
        connection.execute(
            sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(sql.Identifier(STATE_SCHEMA), name)
        )
        connection.execute(
            sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON {} TO {}").format(table, name)
        )


def role_exists(database_url: str, role: str) -> bool:
    with psycopg.connect(libpq_url(database_url), autocommit=True) as connection:
        found = connection.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,))
        return found.fetchone() is not None


def ensure_app_login(owner_url: str, role: str = APP_ROLE) -> str:
    """Create the app's login on a server we run ourselves; returns the URL to connect as it.

    The embedded server listens only on a Unix socket in the data dir, so the login needs no
    password there."""
    with psycopg.connect(libpq_url(owner_url), autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
        if not exists:
            # Another process may create it between our check and our CREATE.
            with contextlib.suppress(psycopg.errors.DuplicateObject):
                connection.execute(
                    sql.SQL(
                        "CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION "
                        "NOBYPASSRLS"
                    ).format(sql.Identifier(role))
                )
    return as_user(owner_url, role)


def as_user(database_url: str, user: str, *, keep_password: bool = True) -> str:
    url = make_url(database_url).set(username=user)
    if not keep_password:
        url = url._replace(password=None)  # `set` leaves a field alone when given None
    return url.render_as_string(hide_password=False)


def login_of(database_url: str) -> str:
    user = make_url(database_url).username
    if not user:
        raise ValueError("the database URL names no user")
    return user
