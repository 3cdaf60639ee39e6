"""order: merge (合单) - an order's kind (order | merged), the merged order it was folded into, its merge
group while it waits in a merge window, a merged order's sources (order.accepted's `sources`), and each
merged line's source order and line

Revision ID: order0012
Revises: order0011
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "order0012"
down_revision = "order0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("orders", sa.Column("kind", sa.Text, nullable=False, server_default=sa.text("'order'")))
    op.add_column("orders", sa.Column("merged_into", sa.Text))
    op.add_column("orders", sa.Column("merge_group", sa.Text))
    op.add_column(
        "orders", sa.Column("merge_sources", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb"))
    )
    op.create_check_constraint("orders_kind", "orders", "kind IN ('order', 'merged')")
    op.create_index(
        "orders_waiting_merge", "orders", ["merge_group", "created_at"],
        postgresql_where=sa.text("merge_group IS NOT NULL AND status = 'held'"),
    )  # fmt: skip
    op.create_index(
        "orders_by_merged_into", "orders", ["merged_into"],
        postgresql_where=sa.text("merged_into IS NOT NULL"),
    )  # fmt: skip
    op.add_column("order_lines", sa.Column("source_order_id", sa.Text))
    op.add_column("order_lines", sa.Column("source_line_id", sa.Text))


def downgrade() -> None:
    op.drop_column("order_lines", "source_line_id")
    op.drop_column("order_lines", "source_order_id")
    op.drop_index("orders_by_merged_into", "orders")
    op.drop_index("orders_waiting_merge", "orders")
    op.drop_constraint("orders_kind", "orders")
    for c in ("merge_sources", "merge_group", "merged_into", "kind"):
        op.drop_column("orders", c)
