"""Alembic environment: migrates the database named by the `sqlalchemy.url` option."""

from alembic import context
from sqlalchemy import create_engine, text
from sqlmodel import SQLModel

import db.models  # noqa: F401 - registers the tables on the metadata

# Several API replicas may start at once; one migrates, the others wait for it.
MIGRATION_LOCK_ID = 0x5739_1AD0


def run_migrations_online() -> None:
    engine = create_engine(context.config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:id)"), {"id": MIGRATION_LOCK_ID})
        try:
            context.configure(connection=connection, target_metadata=SQLModel.metadata)
            with context.begin_transaction():
                context.run_migrations()
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": MIGRATION_LOCK_ID})
            connection.commit()
    engine.dispose()


run_migrations_online()
