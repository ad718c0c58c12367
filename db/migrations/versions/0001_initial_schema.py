"""Initial schema: environments, operations, events, resources, and procrastinate's job queue.

The job queue's tables come from the pinned procrastinate's own schema file; a later
procrastinate upgrade adds a migration here that applies its shipped migration files.

Revision ID: 0001
Revises:
Create Date: 2026-11-26 14:02:49.999857
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from procrastinate.schema import SchemaManager
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(SchemaManager.get_schema())
    op.create_table(
        "environments",
        sa.Column("description", sa.String(), nullable=False),
        sa.Column("region", sa.String(), nullable=False),
        sa.Column("availability_zones", sa.Integer(), nullable=False),
        sa.Column("protected", sa.Boolean(), nullable=False),
        sa.Column("web_instance_type", sa.String(), nullable=False),
        sa.Column("web_min", sa.Integer(), nullable=False),
        sa.Column("web_max", sa.Integer(), nullable=False),
        sa.Column("target_cpu", sa.Integer(), nullable=False),
        sa.Column("db_engine", sa.String(), nullable=False),
        sa.Column("db_instance_class", sa.String(), nullable=False),
        sa.Column("reader_count", sa.Integer(), nullable=False),
        sa.Column("reader_max", sa.Integer(), nullable=False),
        sa.Column("cache_node_type", sa.String(), nullable=False),
        sa.Column("cache_node_count", sa.Integer(), nullable=False),
        sa.Column("secondary_region", sa.String(), nullable=True),
        sa.Column("federated_databases", postgresql.ARRAY(sa.String()), nullable=False),
        sa.Column("certificate_arn", sa.String(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("applied_tier", sa.Integer(), nullable=True),
        sa.Column("engine", sa.String(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "operations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("environment_id", sa.Integer(), nullable=True),
        sa.Column("environment_name", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("engine", sa.String(), nullable=False),
        sa.Column("from_tier", sa.Integer(), nullable=True),
        sa.Column("to_tier", sa.Integer(), nullable=True),
        sa.Column("changes", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("outputs", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("error", sa.String(), nullable=True),
        sa.Column("error_code", sa.String(), nullable=True),
        sa.Column("cancel_requested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("job_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["environment_id"], ["environments.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_operations_environment_id"), "operations", ["environment_id"], unique=False
    )
    op.create_index(
        op.f("ix_operations_environment_name"), "operations", ["environment_name"], unique=False
    )
    op.create_index(op.f("ix_operations_status"), "operations", ["status"], unique=False)
    op.create_table(
        "resources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("environment_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("urn", sa.String(), nullable=False),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("parent", sa.String(), nullable=True),
        sa.Column("custom", sa.Boolean(), nullable=False),
        sa.Column("cloud_id", sa.String(), nullable=True),
        sa.Column("protect", sa.Boolean(), nullable=False),
        sa.Column("inputs", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("outputs", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.ForeignKeyConstraint(["environment_id"], ["environments.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("environment_id", "urn"),
    )
    op.create_table(
        "operation_events",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("operation_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("message", sa.String(), nullable=False),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.ForeignKeyConstraint(["operation_id"], ["operations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("operation_id", "seq"),
    )


def downgrade() -> None:
    op.drop_table("operation_events")
    op.drop_table("resources")
    op.drop_index(op.f("ix_operations_status"), table_name="operations")
    op.drop_index(op.f("ix_operations_environment_name"), table_name="operations")
    op.drop_index(op.f("ix_operations_environment_id"), table_name="operations")
    op.drop_table("operations")
    op.drop_table("environments")
    op.execute(
        "DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers, "
        "procrastinate_jobs, procrastinate_workers CASCADE"
    )
