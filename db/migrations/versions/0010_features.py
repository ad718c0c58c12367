"""Drift (what a drift check found, the simulator's out-of-band changes) and the role an
environment's provider assumes.

Revision ID: 0010_features
Revises: 0009_engine_cli
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010_features"
down_revision: str | None = "0009_engine_cli"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("environments", sa.Column("assume_role_arn", sa.String(), nullable=True))
    op.add_column(
        "operations",
        sa.Column("drift", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    )
    op.create_table(
        "simulated_changes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "environment_id",
            sa.Integer(),
            sa.ForeignKey("environments.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("urn", sa.String(), nullable=False),
        sa.Column("properties", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("changed_by", sa.String(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("environment_id", "urn"),
    )


def downgrade() -> None:
    op.drop_table("simulated_changes")
    op.drop_column("operations", "drift")
    op.drop_column("environments", "assume_role_arn")
