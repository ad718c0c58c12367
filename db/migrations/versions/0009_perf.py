"""Performance: declarations cached by (definition hash, tier), shared by every replica.

Revision ID: 0009_perf
Revises: 0009_webhooks
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009_perf"
down_revision: str | None = "0009_webhooks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "declarations",
        sa.Column("spec_hash", sa.String(), nullable=False),
        sa.Column("tier", sa.Integer(), nullable=False),
        sa.Column("resources", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("spec_hash", "tier"),
    )
    op.create_index("ix_declarations_created_at", "declarations", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_declarations_created_at", table_name="declarations")
    op.drop_table("declarations")
