"""Hardening: a schedule's confirmation records exactly the data loss it was shown; an
operation records the worker process running it.

Revision ID: 0008_hardening
Revises: 0007
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008_hardening"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Older confirmations recorded no resources, so they now cover no data loss at all: such a
    # schedule's destructive firing is refused until it is created again with confirmation.
    op.add_column(
        "schedules",
        sa.Column(
            "confirmed_data_loss",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=False,
            server_default="[]",
        ),
    )
    op.add_column("operations", sa.Column("runner", sa.String(), nullable=True))


def downgrade() -> None:
    op.drop_column("operations", "runner")
    op.drop_column("schedules", "confirmed_data_loss")
