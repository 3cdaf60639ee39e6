"""order: what each shipped task took of each order line (order_shipment_lines)

The order status `partially_shipped` (a split order, some of its tasks shipped) needs no schema change:
`orders.status` is free text checked by the domain's state machine.

Revision ID: order0002
Revises: order0001
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "order0002"
down_revision = "order0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "order_shipment_lines",
        sa.Column("order_id", sa.Text, nullable=False),
        sa.Column("task_id", sa.Text, nullable=False),
        sa.Column(
            "line_id", sa.Text, sa.ForeignKey("order_lines.line_id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("qty", sa.Integer, nullable=False),
        sa.Column("matched", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("order_id", "task_id", "line_id"),
        sa.ForeignKeyConstraint(
            ["order_id", "task_id"],
            ["order_shipments.order_id", "order_shipments.task_id"],
            ondelete="CASCADE",
        ),
    )
    op.create_index("order_shipment_lines_by_line", "order_shipment_lines", ["line_id"])


def downgrade() -> None:
    op.drop_table("order_shipment_lines")
