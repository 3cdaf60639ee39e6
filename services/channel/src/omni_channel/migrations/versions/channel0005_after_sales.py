"""after-sales intake: received_after_sales (one row per refund id and status, per closed order)

Revision ID: channel0005
Revises: channel0004
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "channel0005"
down_revision = "channel0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "received_after_sales",
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("ref_id", sa.Text, nullable=False),
        sa.Column("channel_status", sa.Text, nullable=False),
        sa.Column("shop_id", sa.Text, nullable=False),
        sa.Column("channel_order_id", sa.Text, nullable=False),
        sa.Column("event_id", sa.Uuid, nullable=False),
        sa.Column("deliveries", sa.Integer, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "channel", "kind", "ref_id", "channel_status", name="received_after_sales_pk"
        ),
        sa.CheckConstraint("kind IN ('refund', 'close')", name="received_after_sales_kind"),
    )


def downgrade() -> None:
    op.drop_table("received_after_sales")
