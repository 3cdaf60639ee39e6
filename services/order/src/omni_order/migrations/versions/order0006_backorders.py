"""order: backorders (order_backorders, order_backorder_shortfalls)

Revision ID: order0006
Revises: order0005
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "order0006"
down_revision = "order0005"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "order_backorders",
        sa.Column(
            "order_id", sa.Text, sa.ForeignKey("orders.order_id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("since", TS, nullable=False),
        sa.Column("last_at", TS, nullable=False),
        sa.Column("times", sa.Integer, nullable=False),
        sa.Column("due_at", TS, nullable=False),
        sa.Column("on_overdue", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("resourced_at", TS, nullable=True),
        sa.Column("escalated_at", TS, nullable=True),
        sa.Column("escalation", sa.Text, nullable=True),
    )
    op.create_index("order_backorders_by_since", "order_backorders", ["since", "order_id"])
    op.create_table(
        "order_backorder_shortfalls",
        sa.Column(
            "order_id",
            sa.Text,
            sa.ForeignKey("order_backorders.order_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("material_code", sa.Text, nullable=False),
        sa.Column("requested", sa.Integer, nullable=False),
        sa.Column("available", sa.Integer, nullable=False),
        sa.Column("missing", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("order_id", "material_code", name="order_backorder_shortfalls_pk"),
    )
    op.create_index(
        "order_backorder_shortfalls_by_material", "order_backorder_shortfalls", ["material_code", "order_id"]
    )


def downgrade() -> None:
    op.drop_table("order_backorder_shortfalls")
    op.drop_table("order_backorders")
