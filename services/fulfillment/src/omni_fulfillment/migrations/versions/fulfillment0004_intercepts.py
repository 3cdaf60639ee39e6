"""fulfillment: partial refunds before shipment - one row per after-sales case whose units are (or are to be)
taken off the order's tasks

Revision ID: fulfillment0004
Revises: fulfillment0003
Create Date: 2026-12-10
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "fulfillment0004"
down_revision = "fulfillment0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "intercepts",
        sa.Column("case_id", sa.Text, primary_key=True),
        sa.Column("order_id", sa.Text, nullable=False),
        sa.Column("lines", postgresql.JSONB, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("intercepted", postgresql.JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
        sa.Column("not_intercepted", postgresql.JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('pending', 'done', 'moot')", name="intercepts_status"),
    )
    op.create_index(
        "intercepts_pending", "intercepts", ["order_id"], postgresql_where=sa.text("status = 'pending'")
    )


def downgrade() -> None:
    op.drop_table("intercepts")
