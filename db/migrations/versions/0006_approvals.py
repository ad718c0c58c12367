"""Approvals: who asked, the plan and definition version they asked on, and the decision.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (
    sa.Column("requested_by", sa.String(), nullable=True),
    sa.Column("channel", sa.String(), nullable=True),
    sa.Column("definition_version", sa.Integer(), nullable=True),
    sa.Column("plan", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column("approval_expires_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("decided_by", sa.String(), nullable=True),
    sa.Column("decision_comment", sa.String(), nullable=True),
    sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
)


def upgrade() -> None:
    for column in COLUMNS:
        op.add_column("operations", column)


def downgrade() -> None:
    for column in reversed(COLUMNS):
        op.drop_column("operations", column.name)
