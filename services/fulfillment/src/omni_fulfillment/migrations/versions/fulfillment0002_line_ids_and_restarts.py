"""fulfillment: order line ids on tasks; a sourcing restarted by an operator's retry

Revision ID: fulfillment0002
Revises: fulfillment0001
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "fulfillment0002"
down_revision = "fulfillment0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "tasks",
        sa.Column("order_lines", postgresql.JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
    )
    op.add_column("sourcing", sa.Column("first_attempt", sa.Integer, nullable=False, server_default="1"))
    op.add_column("sourcing", sa.Column("accepted_event", sa.Text, nullable=True))


def downgrade() -> None:
    op.drop_column("sourcing", "accepted_event")
    op.drop_column("sourcing", "first_attempt")
    op.drop_column("tasks", "order_lines")
