"""The `stepladder` command: serve, worker, migrate."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from typing import TYPE_CHECKING

from service.config import Settings, get_settings

if TYPE_CHECKING:
    from service.access.domain import Actor


def resolve_database_url(settings: Settings) -> str:
    """The external database when configured, else the embedded one under the data dir."""
    if settings.database_url is not None:
        return settings.database_url.get_secret_value()
    from db.embedded import start_embedded_postgres

    return start_embedded_postgres(settings.resolved_data_dir())


def migrate(settings: Settings) -> str:
    from db.migrate import upgrade_database

    try:
        settings.check_engine_ready()
    except ValueError as error:
        raise SystemExit(f"stepladder: {error}") from None
    database_url = resolve_database_url(settings)
    upgrade_database(database_url)
    return database_url


def command_serve(arguments: argparse.Namespace) -> int:
    import uvicorn

    from service.app import create_app

    settings = get_settings()
    database_url = migrate(settings)
    app = create_app(settings, database_url)
    host = arguments.host or settings.host
    port = arguments.port or settings.port
    if settings.engine == "simulator":
        logging.getLogger("stepladder").warning(
            "engine: simulator — nothing is created in AWS; every result is simulated"
        )
    uvicorn.run(app, host=host, port=port, log_level=settings.log_level)
    return 0


def command_worker(_: argparse.Namespace) -> int:
    from db.engine import create_db_engine
    from service.jobs.worker import run_worker

    settings = get_settings()
    database_url = migrate(settings)
    engine = create_db_engine(database_url)
    asyncio.run(run_worker(settings, database_url, engine, install_signal_handlers=True))
    return 0


def command_migrate(_: argparse.Namespace) -> int:
    migrate(get_settings())
    print("database is at the latest schema")
    return 0


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
    engine = create_db_engine(migrate(settings))
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


def _cli_actor() -> Actor:
    """Whoever can run the CLI on the service's machine holds the database: an admin."""
    import getpass

    from service.access.domain import Actor
    from service.access.roles import Role

    return Actor(name=f"cli:{getpass.getuser()}", role=Role.admin, scope=None, channel="cli")


def _days(expires: str | None) -> int | None:
    if expires is None:
        return None
    if not expires.endswith("d") or not expires[:-1].isdigit():
        raise SystemExit("stepladder: --expires takes a number of days, such as 90d")
    return int(expires[:-1])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stepladder", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the API and an in-process worker")
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default 8000)")
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
    create.add_argument("--expires", help="lifetime in days, such as 90d")
    token_commands.add_parser("list", help="every token, without secrets")
    revoke = token_commands.add_parser("revoke", help="revoke a token by name")
    revoke.add_argument("name")
    token.set_defaults(handler=command_token)
    docs = commands.add_parser("docs", help="regenerate docs/tiers.md from the programs")
    docs.set_defaults(handler=command_docs)
    return parser


def main(argv: list[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)
    logging.basicConfig(
        level=get_settings().log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    handler = arguments.handler
    result: int = handler(arguments)
    return result


if __name__ == "__main__":
    sys.exit(main())
