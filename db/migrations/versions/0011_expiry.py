"""Ephemeral environments: an expiry on the definition, and what the expiry tick has done.

Revision ID: 0011_expiry
Revises: 0010_features
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_expiry"
down_revision: str | None = "0010_features"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for column in ("expires_at", "expiry_warned_for", "expiry_fired_for"):
        op.add_column("environments", sa.Column(column, sa.DateTime(timezone=True), nullable=True))
    op.add_column("environments", sa.Column("expiry_refusal", sa.String(), nullable=True))
    # The tick reads only the environments that expire: most never do.
    op.create_index(
        "ix_environments_expires_at",
        "environments",
        ["expires_at"],
        postgresql_where=sa.text("expires_at IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_environments_expires_at", table_name="environments")
    for column in ("expiry_refusal", "expiry_fired_for", "expiry_warned_for", "expires_at"):
        op.drop_column("environments", column)
