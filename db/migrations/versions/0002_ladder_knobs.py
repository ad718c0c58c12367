"""Knobs of the upper tiers: Lambda, business hours, Route 53; plans' data loss on operations.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW_ENVIRONMENT_COLUMNS = (
    sa.Column("lambda_memory_mb", sa.Integer(), nullable=False, server_default="256"),
    sa.Column("lambda_batch_size", sa.Integer(), nullable=False, server_default="10"),
    sa.Column("business_hours_start", sa.Integer(), nullable=True),
    sa.Column("business_hours_end", sa.Integer(), nullable=True),
    sa.Column("business_hours_days", sa.String(), nullable=False, server_default="MON-FRI"),
    sa.Column("business_hours_timezone", sa.String(), nullable=False, server_default="UTC"),
    sa.Column("off_hours_web_min", sa.Integer(), nullable=False, server_default="1"),
    sa.Column("hosted_zone_id", sa.String(), nullable=True),
    sa.Column("domain_name", sa.String(), nullable=True),
)


def upgrade() -> None:
    for column in NEW_ENVIRONMENT_COLUMNS:
        op.add_column("environments", column)
    op.add_column(
        "operations",
        sa.Column("confirmed", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "operations",
        sa.Column(
            "data_loss",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=False,
            server_default=sa.text("'[]'::jsonb"),
        ),
    )


def downgrade() -> None:
    op.drop_column("operations", "data_loss")
    op.drop_column("operations", "confirmed")
    for column in reversed(NEW_ENVIRONMENT_COLUMNS):
        op.drop_column("environments", column.name)
