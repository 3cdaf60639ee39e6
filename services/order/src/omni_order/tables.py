"""The order service's tables (SQLAlchemy Core). `store.Repository` is the only code that queries them.

Two groups of tables:
- the catalog projection (catalog_*), fed by omni.product, each row carrying the PIM aggregate's version;
- the order in its six dimensions: trade, logistics, money and invoice on `orders`; goods on
  `order_channel_lines` (as the channel sent them) and `order_lines` (decomposed material lines with their
  allocated amounts); stock on `order_line_allocations`; shipments on `order_shipments`; and the
  `order_status_history` of every transition; what each shipped task took of each order line on
  `order_shipment_lines`.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Double,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import registry
from sqlmodel import SQLModel


class Base(SQLModel, registry=registry()):
    """This service's own metadata (never SQLModel's global one: services share a test process)."""


metadata = Base.metadata

TS = DateTime(timezone=True)

# -- catalog projection ---------------------------------------------------------------------------
materials = Table(
    "catalog_materials",
    metadata,
    Column("code", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("barcode", Text),
    Column("unit", Text, nullable=False),
    Column("weight_g", Integer, nullable=False),
    Column("high_value", Boolean, nullable=False),
    Column("active", Boolean, nullable=False),
    # product.material.upserted v2 (order0007): the facts order rules decide on
    Column("category", Text, nullable=False, server_default=text("''")),
    Column("tags", ARRAY(Text), nullable=False, server_default=text("'{}'")),
    Column("handling", Text, nullable=False, server_default=text("'normal'")),
    Column("tax_rate_bp", Integer, nullable=False, server_default=text("1300")),
    Column("version", Integer, nullable=False),
    Column("updated_at", TS, nullable=False),
)

sales_products = Table(
    "catalog_sales_products",
    metadata,
    Column("code", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", TS, nullable=False),
)

sales_product_components = Table(
    "catalog_sales_product_components",
    metadata,
    Column(
        "sales_product_code",
        Text,
        ForeignKey("catalog_sales_products.code", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("position", Integer, nullable=False),
    Column("material_code", Text, nullable=False),
    Column("qty", Integer, nullable=False),
    Column("price_weight", Integer, nullable=False),
    PrimaryKeyConstraint("sales_product_code", "position"),
)

channel_listings = Table(
    "catalog_channel_listings",
    metadata,
    Column("listing_id", Text, primary_key=True),
    Column("channel", Text, nullable=False),
    Column("shop_id", Text, nullable=False),
    Column("channel_item_id", Text, nullable=False),
    Column("channel_sku_id", Text),
    Column("outer_id", Text),
    Column("sales_product_code", Text, nullable=False),
    Column("price_cents", BigInteger, nullable=False),
    Column("currency", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", TS, nullable=False),
    Index("catalog_listings_by_item", "channel", "shop_id", "channel_item_id"),
    Index("catalog_listings_by_outer", "channel", "shop_id", "outer_id"),
)

# -- orders ---------------------------------------------------------------------------------------
orders = Table(
    "orders",
    metadata,
    Column("order_id", Text, primary_key=True),
    # trade
    Column("channel", Text, nullable=False),
    Column("shop_id", Text, nullable=False),
    Column("channel_order_id", Text, nullable=False),
    Column("channel_status", Text, nullable=False),
    Column("business_model", Text, nullable=False),
    Column("buyer_id", Text, nullable=False),
    Column("role_owner", Text, nullable=False),
    Column("role_seller", Text, nullable=False),
    Column("role_channel", Text, nullable=False),
    Column("role_fulfiller", Text),
    Column("role_platform", Text),
    Column("buyer_message", Text, nullable=False),
    Column("created_at", TS, nullable=False),
    Column("paid_at", TS),
    Column("received_at", TS, nullable=False),
    Column("recorded_at", TS, nullable=False),
    Column("duplicate_deliveries", Integer, nullable=False, server_default=text("0")),
    Column("last_duplicate_at", TS),
    # state
    Column("status", Text, nullable=False),
    Column("status_reason_code", Text),
    Column("status_reason", Text),
    Column("updated_at", TS, nullable=False),
    Column("completed_at", TS),
    Column("cancelled_at", TS),
    # logistics
    Column("delivery", Text, nullable=False),
    Column("pickup_node", Text),
    # the receiver's personal data (order0010, docs/buyer-data.md): enc:v1:... ciphertext (or masked:<the
    # platform's mask>; a legacy plain value before order0010), and its mask for display
    Column("receiver_name", Text, nullable=False),
    Column("receiver_phone", Text, nullable=False),
    Column("country", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("city", Text, nullable=False),
    Column("district", Text, nullable=False),
    Column("town", Text, nullable=False),
    Column("address_detail", Text, nullable=False),
    Column("zip", Text, nullable=False),
    Column("lat", Double),
    Column("lng", Double),
    # where the geocoder placed the ship-to (order0016, docs/geo.md): district | city | province and the
    # division's adcode; both null: not located
    Column("geo_level", Text),
    Column("geo_adcode", Text),
    Column("receiver_name_masked", Text, nullable=False),
    Column("receiver_phone_masked", Text, nullable=False),
    Column("address_detail_masked", Text, nullable=False),
    # money
    Column("currency", Text, nullable=False),
    Column("goods_cents", BigInteger, nullable=False),
    Column("discount_cents", BigInteger, nullable=False),
    Column("post_fee_cents", BigInteger, nullable=False),
    Column("paid_cents", BigInteger, nullable=False),
    Column("goods_paid_cents", BigInteger, nullable=False),
    # invoice
    Column("invoice_kind", Text),
    Column("invoice_title", Text),
    Column("invoice_tax_id", Text),
    # review (order0004): what the rules set on the order, the strategy chosen, the platform's merge key
    Column("tags", ARRAY(Text), nullable=False, server_default=text("'{}'")),
    Column("priority", Integer, nullable=False, server_default=text("0")),
    Column("route_hints", JSONB, nullable=False, server_default=text("'[]'::jsonb")),  # order.accepted's
    Column("partners", JSONB, nullable=False, server_default=text("'[]'::jsonb")),  # commission shares
    Column("strategy", Text),
    Column("merge_key", Text),
    Column("presale_stage", Text, nullable=False, server_default=text("'none'")),
    Column("seller_memo", Text, nullable=False, server_default=text("''")),
    # merge (order0012): a merged order's kind and sources; a source's merged order; the window's group
    Column("kind", Text, nullable=False, server_default=text("'order'")),
    Column("merged_into", Text),
    Column("merge_group", Text),  # a hash of (strategy, channel, shops, buyer, address, delivery, roles)
    Column("merge_sources", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("split_kinds", ARRAY(Text), nullable=False, server_default=text("'{}'")),  # order0013
    # the platform's ciphertexts of the receiver (order0014): opaque, decrypted only through the platform
    Column("platform_receiver", JSONB),
    # B2B credit terms (order0015): on_account orders count against their buyer's credit account until paid
    Column("payment", Text, nullable=False, server_default=text("'paid'")),
    Column("due_at", TS),
    Column("credit_account", Text),
    CheckConstraint("kind IN ('order', 'merged')", name="orders_kind"),
    CheckConstraint(
        "geo_level IS NULL OR geo_level IN ('district', 'city', 'province')", name="orders_geo_level"
    ),
    UniqueConstraint("channel", "channel_order_id", name="orders_channel_order_uq"),
    Index("orders_by_created", "created_at", "order_id"),
    Index("orders_by_status_created", "status", "created_at"),
    Index("orders_by_shop_created", "channel", "shop_id", "created_at"),
    Index("orders_by_buyer", "channel", "shop_id", "buyer_id", "created_at"),
    Index(
        "orders_waiting_merge",
        "merge_group",
        "created_at",
        postgresql_where=text("merge_group IS NOT NULL AND status = 'held'"),
    ),
    Index("orders_by_merged_into", "merged_into", postgresql_where=text("merged_into IS NOT NULL")),
)

order_channel_lines = Table(
    "order_channel_lines",
    metadata,
    Column("order_id", Text, ForeignKey("orders.order_id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("channel_line_id", Text, nullable=False),
    Column("channel_item_id", Text, nullable=False),
    Column("channel_sku_id", Text),
    Column("outer_sku_id", Text),
    Column("outer_iid", Text),
    Column("title", Text, nullable=False),
    Column("qty", Integer, nullable=False),
    Column("unit_price_cents", BigInteger, nullable=False),
    Column("discount_cents", BigInteger, nullable=False),
    Column("paid_cents", BigInteger, nullable=False),
    Column("listing_id", Text),
    Column("sales_product_code", Text),
    PrimaryKeyConstraint("order_id", "position"),
)

order_lines = Table(
    "order_lines",
    metadata,
    Column("line_id", Text, primary_key=True),
    Column("order_id", Text, ForeignKey("orders.order_id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("channel_line_id", Text, nullable=False),
    Column("sales_product_code", Text, nullable=False),
    Column("material_code", Text, nullable=False),
    Column("qty", Integer, nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    Column("gift_id", Text),  # a gift the rules added (0 paid): tables_gifts.gift_grants
    Column("source_order_id", Text),  # a merged order's line: the source order and line it came from
    Column("source_line_id", Text),
    # split by type (order0013): the line's group (None: the main one); false: a virtual or service line
    Column("group", Text),
    Column("ships", Boolean, nullable=False, server_default=text("true")),
    # the material is high-value (its fact at intake, order0017): fulfillment may send it to dedicated nodes
    Column("high_value", Boolean, nullable=False, server_default=text("false")),
    UniqueConstraint("order_id", "position", name="order_lines_position_uq"),
)

order_line_allocations = Table(
    "order_line_allocations",
    metadata,
    Column("line_id", Text, ForeignKey("order_lines.line_id", ondelete="CASCADE"), nullable=False),
    Column("task_id", Text, nullable=False),
    Column("order_id", Text, nullable=False),
    Column("node_code", Text, nullable=False),
    Column("reservation_id", Text, nullable=False),
    Column("qty", Integer, nullable=False),
    Column("allocated_at", TS, nullable=False),
    PrimaryKeyConstraint("line_id", "task_id"),
    Index("order_line_allocations_by_order", "order_id"),
)

order_shipments = Table(
    "order_shipments",
    metadata,
    Column("order_id", Text, ForeignKey("orders.order_id", ondelete="CASCADE"), nullable=False),
    Column("task_id", Text, nullable=False),
    Column("node_code", Text, nullable=False),
    Column("kind", Text, nullable=False),  # ship | pickup
    Column("carrier", Text),
    Column("tracking_no", Text),
    Column("at", TS, nullable=False),
    PrimaryKeyConstraint("order_id", "task_id"),
)

order_status_history = Table(
    "order_status_history",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("order_id", Text, ForeignKey("orders.order_id", ondelete="CASCADE"), nullable=False),
    Column("from_status", Text),
    Column("to_status", Text, nullable=False),
    Column("reason_code", Text),
    Column("reason", Text, nullable=False),
    Column("source", Text, nullable=False),  # intake | fulfillment | api
    Column("cause_event_id", UUID(as_uuid=True)),
    Column("at", TS, nullable=False),
    Index("order_status_history_by_order", "order_id", "id"),
)

# what each shipped (or picked-up) task took of each order line: from the line ids fulfillment.shipped v2
# carries, or, for a v1 event, matched by material to the task's allocation (see domain/shipping.py)
order_shipment_lines = Table(
    "order_shipment_lines",
    metadata,
    Column("order_id", Text, nullable=False),
    Column("task_id", Text, nullable=False),
    Column("line_id", Text, ForeignKey("order_lines.line_id", ondelete="CASCADE"), nullable=False),
    Column("qty", Integer, nullable=False),
    Column("matched", Boolean, nullable=False),  # false: named by the event; true: matched by material (v1)
    PrimaryKeyConstraint("order_id", "task_id", "line_id"),
    ForeignKeyConstraint(
        ["order_id", "task_id"], ["order_shipments.order_id", "order_shipments.task_id"], ondelete="CASCADE"
    ),
    Index("order_shipment_lines_by_line", "line_id"),
)


# A platform's permanent refusal of a shipment write-back (channel.shipment-writeback.refused), shown on the
# order until an operator retries it in the channel service; one row per refusal.
order_writeback_problems = Table(
    "order_writeback_problems",
    metadata,
    Column("writeback_id", Text, nullable=False),
    Column("order_id", Text, ForeignKey("orders.order_id", ondelete="CASCADE"), nullable=False),
    Column("channel", Text, nullable=False),
    Column("channel_order_id", Text, nullable=False),
    Column("carrier", Text, nullable=False),
    Column("company_code", Text, nullable=True),
    Column("tracking_no", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("refused_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("writeback_id", "refused_at", name="order_writeback_problems_pk"),
    Index("order_writeback_problems_by_order", "order_id"),
)
