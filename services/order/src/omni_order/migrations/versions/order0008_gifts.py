"""order: gifts - gift lines (order_lines.gift_id), the grants per order, the counters caps are checked
against, and the stock per node the order service has seen (for a gift's stock fallback)

Revision ID: order0008
Revises: order0007
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "order0008"
down_revision = "order0007"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("order_lines", sa.Column("gift_id", sa.Text))
    op.create_table(
        "gift_grants",
        sa.Column("order_id", sa.Text, sa.ForeignKey("orders.order_id", ondelete="CASCADE"), nullable=False),
        sa.Column("gift_id", sa.Text, nullable=False),
        sa.Column("rule", sa.Text, nullable=False),
        sa.Column("buyer_key", sa.Text, nullable=False),
        sa.Column("material_code", sa.Text, nullable=False),
        sa.Column("qty", sa.Integer, nullable=False),
        sa.Column("sets", sa.Integer, nullable=False),
        sa.Column("granted_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("order_id", "gift_id"),
        sa.CheckConstraint("qty > 0 AND sets > 0", name="gift_grants_positive"),
    )
    op.create_table(
        "gift_counters",
        sa.Column("gift_id", sa.Text, nullable=False),
        sa.Column("scope", sa.Text, nullable=False),
        sa.Column("sets", sa.BigInteger, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("gift_id", "scope"),
    )
    op.create_table(
        "stock_seen",
        sa.Column("node_code", sa.Text, nullable=False),
        sa.Column("material_code", sa.Text, nullable=False),
        sa.Column("available", sa.BigInteger, nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("changed_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("material_code", "node_code"),
    )


def downgrade() -> None:
    op.drop_table("stock_seen")
    op.drop_table("gift_counters")
    op.drop_table("gift_grants")
    op.drop_column("order_lines", "gift_id")
