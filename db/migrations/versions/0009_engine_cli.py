"""Pulumi state in the app's PostgreSQL: a schema and a table of their own for the CLI's
PostgreSQL DIY backend (`postgres://`).

The table is the CLI's own (`pkg/backend/diy/postgres/schema.sql`): it only creates it when
missing, so with it made here the state role needs no CREATE privilege. Its login is granted
after every migration (`db/roles.py`).

Revision ID: 0009_engine_cli
Revises: 0009_perf
Create Date: 2026-11-27
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009_engine_cli"
down_revision: str | None = "0009_perf"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE SCHEMA IF NOT EXISTS stepladder_pulumi")
    op.execute(
        "CREATE TABLE IF NOT EXISTS stepladder_pulumi.pulumi_state ("
        " key TEXT PRIMARY KEY,"
        " data JSON NOT NULL,"
        " updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now())"
    )
    op.execute(
        "CREATE INDEX IF NOT EXISTS pulumi_state_key_prefix_idx "
        "ON stepladder_pulumi.pulumi_state (key text_pattern_ops)"
    )


def downgrade() -> None:
    # Dropping stack state would orphan every deployed environment's cloud resources.
    op.execute(
        "DO $$ BEGIN IF EXISTS (SELECT 1 FROM stepladder_pulumi.pulumi_state) THEN "
        "RAISE EXCEPTION 'stepladder_pulumi.pulumi_state holds Pulumi state: move it first "
        "(stepladder state migrate --to <url>)'; END IF; END $$"
    )
    op.execute("DROP SCHEMA stepladder_pulumi CASCADE")
