"""merged orders (合单): finance books per source order. The merged order's sources and which line came from
which (merged_orders, merged_sources, merged_lines); orders and shipments say which merged order they were
booked via; a shipment row per task and order (a merged order's task carries goods of several); one voucher
of a kind per event and order (a merged order's event posts one per source)

Revision ID: finance0003
Revises: finance0002
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "finance0003"
down_revision = "finance0002"
branch_labels = None
depends_on = None

UUID = postgresql.UUID(as_uuid=True)


def upgrade() -> None:
    op.create_table(
        "merged_orders",
        sa.Column("order_id", sa.Text, primary_key=True),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("accepted_event_id", UUID, nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "merged_sources",
        sa.Column("merged_order_id", sa.Text, sa.ForeignKey("merged_orders.order_id"), nullable=False),
        sa.Column("source_order_id", sa.Text, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("shop_id", sa.Text, nullable=False),
        sa.Column("channel_order_id", sa.Text, nullable=False),
        sa.Column("goods_paid_cents", sa.BigInteger, nullable=False),
        sa.Column("post_fee_cents", sa.BigInteger, nullable=False),
        sa.Column("paid_cents", sa.BigInteger, nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("merged_order_id", "source_order_id", name="merged_sources_pkey"),
        sa.UniqueConstraint("merged_order_id", "position", name="merged_sources_position"),
        sa.CheckConstraint(
            "goods_paid_cents >= 0 AND post_fee_cents >= 0 "
            "AND paid_cents = goods_paid_cents + post_fee_cents",
            name="merged_sources_amounts",
        ),
    )
    op.create_index("merged_sources_source", "merged_sources", ["source_order_id"])
    op.create_table(
        "merged_lines",
        sa.Column("merged_order_id", sa.Text, nullable=False),
        sa.Column("line_no", sa.Integer, nullable=False),
        sa.Column("line_id", sa.Text, nullable=False),
        sa.Column("source_order_id", sa.Text, nullable=False),
        sa.Column("material_code", sa.Text, nullable=False),
        sa.Column("qty", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("merged_order_id", "line_no", name="merged_lines_pkey"),
        sa.UniqueConstraint("merged_order_id", "line_id", name="merged_lines_line_id"),
        sa.ForeignKeyConstraint(
            ["merged_order_id", "source_order_id"],
            ["merged_sources.merged_order_id", "merged_sources.source_order_id"],
            name="merged_lines_source",
        ),
        sa.CheckConstraint("qty > 0", name="merged_lines_qty"),
    )

    op.add_column(
        "orders",
        sa.Column("merged_order_id", sa.Text, sa.ForeignKey("merged_orders.order_id"), nullable=True),
    )

    op.add_column(
        "shipments",
        sa.Column("merged_order_id", sa.Text, sa.ForeignKey("merged_orders.order_id"), nullable=True),
    )
    op.drop_constraint("shipments_source_event_id_key", "shipments", type_="unique")
    op.drop_constraint("shipments_pkey", "shipments", type_="primary")
    op.create_primary_key("shipments_pkey", "shipments", ["task_id", "order_id"])
    op.create_unique_constraint("shipments_source_event", "shipments", ["source_event_id", "order_id"])

    op.drop_constraint("vouchers_source_kind", "vouchers", type_="unique")
    op.create_unique_constraint(
        "vouchers_source_kind",
        "vouchers",
        ["source_event_id", "kind", "order_id"],
        postgresql_nulls_not_distinct=True,
    )


def downgrade() -> None:
    # Only possible while nothing was booked via a merged order (the old keys would not hold otherwise).
    op.drop_constraint("vouchers_source_kind", "vouchers", type_="unique")
    op.create_unique_constraint("vouchers_source_kind", "vouchers", ["source_event_id", "kind"])

    op.drop_constraint("shipments_source_event", "shipments", type_="unique")
    op.drop_constraint("shipments_pkey", "shipments", type_="primary")
    op.create_primary_key("shipments_pkey", "shipments", ["task_id"])
    op.create_unique_constraint("shipments_source_event_id_key", "shipments", ["source_event_id"])
    op.drop_column("shipments", "merged_order_id")

    op.drop_column("orders", "merged_order_id")
    op.drop_table("merged_lines")
    op.drop_index("merged_sources_source", table_name="merged_sources")
    op.drop_table("merged_sources")
    op.drop_table("merged_orders")
