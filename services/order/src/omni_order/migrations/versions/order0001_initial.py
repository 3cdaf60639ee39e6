"""order: catalog projection, orders in six dimensions, status history

Revision ID: order0001
Revises:
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "order0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    # -- catalog projection (from omni.product) ----------------------------------------------------
    op.create_table(
        "catalog_materials",
        sa.Column("code", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("barcode", sa.Text),
        sa.Column("unit", sa.Text, nullable=False),
        sa.Column("weight_g", sa.Integer, nullable=False),
        sa.Column("high_value", sa.Boolean, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "catalog_sales_products",
        sa.Column("code", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "catalog_sales_product_components",
        sa.Column(
            "sales_product_code",
            sa.Text,
            sa.ForeignKey("catalog_sales_products.code", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("material_code", sa.Text, nullable=False),
        sa.Column("qty", sa.Integer, nullable=False),
        sa.Column("price_weight", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("sales_product_code", "position"),
    )
    op.create_table(
        "catalog_channel_listings",
        sa.Column("listing_id", sa.Text, primary_key=True),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("shop_id", sa.Text, nullable=False),
        sa.Column("channel_item_id", sa.Text, nullable=False),
        sa.Column("channel_sku_id", sa.Text),
        sa.Column("outer_id", sa.Text),
        sa.Column("sales_product_code", sa.Text, nullable=False),
        sa.Column("price_cents", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index(
        "catalog_listings_by_item", "catalog_channel_listings", ["channel", "shop_id", "channel_item_id"]
    )
    op.create_index(
        "catalog_listings_by_outer", "catalog_channel_listings", ["channel", "shop_id", "outer_id"]
    )

    # -- orders -----------------------------------------------------------------------------------
    op.create_table(
        "orders",
        sa.Column("order_id", sa.Text, primary_key=True),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("shop_id", sa.Text, nullable=False),
        sa.Column("channel_order_id", sa.Text, nullable=False),
        sa.Column("channel_status", sa.Text, nullable=False),
        sa.Column("business_model", sa.Text, nullable=False),
        sa.Column("buyer_id", sa.Text, nullable=False),
        sa.Column("role_owner", sa.Text, nullable=False),
        sa.Column("role_seller", sa.Text, nullable=False),
        sa.Column("role_channel", sa.Text, nullable=False),
        sa.Column("role_fulfiller", sa.Text),
        sa.Column("role_platform", sa.Text),
        sa.Column("buyer_message", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("paid_at", TS),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("recorded_at", TS, nullable=False),
        sa.Column("duplicate_deliveries", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("last_duplicate_at", TS),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("status_reason_code", sa.Text),
        sa.Column("status_reason", sa.Text),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("completed_at", TS),
        sa.Column("cancelled_at", TS),
        sa.Column("delivery", sa.Text, nullable=False),
        sa.Column("pickup_node", sa.Text),
        sa.Column("receiver_name", sa.Text, nullable=False),
        sa.Column("receiver_phone", sa.Text, nullable=False),
        sa.Column("country", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("city", sa.Text, nullable=False),
        sa.Column("district", sa.Text, nullable=False),
        sa.Column("town", sa.Text, nullable=False),
        sa.Column("address_detail", sa.Text, nullable=False),
        sa.Column("zip", sa.Text, nullable=False),
        sa.Column("lat", sa.Double),
        sa.Column("lng", sa.Double),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("goods_cents", sa.BigInteger, nullable=False),
        sa.Column("discount_cents", sa.BigInteger, nullable=False),
        sa.Column("post_fee_cents", sa.BigInteger, nullable=False),
        sa.Column("paid_cents", sa.BigInteger, nullable=False),
        sa.Column("goods_paid_cents", sa.BigInteger, nullable=False),
        sa.Column("invoice_kind", sa.Text),
        sa.Column("invoice_title", sa.Text),
        sa.Column("invoice_tax_id", sa.Text),
        sa.UniqueConstraint("channel", "channel_order_id", name="orders_channel_order_uq"),
    )
    op.create_index("orders_by_created", "orders", ["created_at", "order_id"])
    op.create_index("orders_by_status_created", "orders", ["status", "created_at"])
    op.create_index("orders_by_shop_created", "orders", ["channel", "shop_id", "created_at"])

    op.create_table(
        "order_channel_lines",
        sa.Column("order_id", sa.Text, sa.ForeignKey("orders.order_id", ondelete="CASCADE"), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("channel_line_id", sa.Text, nullable=False),
        sa.Column("channel_item_id", sa.Text, nullable=False),
        sa.Column("channel_sku_id", sa.Text),
        sa.Column("outer_sku_id", sa.Text),
        sa.Column("outer_iid", sa.Text),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("qty", sa.Integer, nullable=False),
        sa.Column("unit_price_cents", sa.BigInteger, nullable=False),
        sa.Column("discount_cents", sa.BigInteger, nullable=False),
        sa.Column("paid_cents", sa.BigInteger, nullable=False),
        sa.Column("listing_id", sa.Text),
        sa.Column("sales_product_code", sa.Text),
        sa.PrimaryKeyConstraint("order_id", "position"),
    )
    op.create_table(
        "order_lines",
        sa.Column("line_id", sa.Text, primary_key=True),
        sa.Column("order_id", sa.Text, sa.ForeignKey("orders.order_id", ondelete="CASCADE"), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("channel_line_id", sa.Text, nullable=False),
        sa.Column("sales_product_code", sa.Text, nullable=False),
        sa.Column("material_code", sa.Text, nullable=False),
        sa.Column("qty", sa.Integer, nullable=False),
        sa.Column("amount_cents", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("order_id", "position", name="order_lines_position_uq"),
    )
    op.create_table(
        "order_line_allocations",
        sa.Column(
            "line_id", sa.Text, sa.ForeignKey("order_lines.line_id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("task_id", sa.Text, nullable=False),
        sa.Column("order_id", sa.Text, nullable=False),
        sa.Column("node_code", sa.Text, nullable=False),
        sa.Column("reservation_id", sa.Text, nullable=False),
        sa.Column("qty", sa.Integer, nullable=False),
        sa.Column("allocated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("line_id", "task_id"),
    )
    op.create_index("order_line_allocations_by_order", "order_line_allocations", ["order_id"])
    op.create_table(
        "order_shipments",
        sa.Column("order_id", sa.Text, sa.ForeignKey("orders.order_id", ondelete="CASCADE"), nullable=False),
        sa.Column("task_id", sa.Text, nullable=False),
        sa.Column("node_code", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("carrier", sa.Text),
        sa.Column("tracking_no", sa.Text),
        sa.Column("at", TS, nullable=False),
        sa.PrimaryKeyConstraint("order_id", "task_id"),
    )
    op.create_table(
        "order_status_history",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("order_id", sa.Text, sa.ForeignKey("orders.order_id", ondelete="CASCADE"), nullable=False),
        sa.Column("from_status", sa.Text),
        sa.Column("to_status", sa.Text, nullable=False),
        sa.Column("reason_code", sa.Text),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("cause_event_id", postgresql.UUID(as_uuid=True)),
        sa.Column("at", TS, nullable=False),
    )
    op.create_index("order_status_history_by_order", "order_status_history", ["order_id", "id"])


def downgrade() -> None:
    for table in (
        "order_status_history",
        "order_shipments",
        "order_line_allocations",
        "order_lines",
        "order_channel_lines",
        "orders",
        "catalog_channel_listings",
        "catalog_sales_product_components",
        "catalog_sales_products",
        "catalog_materials",
    ):
        op.drop_table(table)
