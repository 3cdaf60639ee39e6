"""cancelled orders: refuse reservation requests that arrive after the cancellation

Revision ID: inventory0002
Revises: inventory0001
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "inventory0002"
down_revision = "inventory0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cancelled_orders",
        sa.Column("order_id", sa.Text, primary_key=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("cancelled_orders")
