"""order: a platform's permanent refusal of a shipment write-back, kept on the order
(order_writeback_problems)

Revision ID: order0003
Revises: order0002
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "order0003"
down_revision = "order0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "order_writeback_problems",
        sa.Column("writeback_id", sa.Text, nullable=False),
        sa.Column("order_id", sa.Text, sa.ForeignKey("orders.order_id", ondelete="CASCADE"), nullable=False),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("channel_order_id", sa.Text, nullable=False),
        sa.Column("carrier", sa.Text, nullable=False),
        sa.Column("company_code", sa.Text, nullable=True),
        sa.Column("tracking_no", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("refused_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("writeback_id", "refused_at", name="order_writeback_problems_pk"),
    )
    op.create_index("order_writeback_problems_by_order", "order_writeback_problems", ["order_id"])


def downgrade() -> None:
    op.drop_table("order_writeback_problems")
