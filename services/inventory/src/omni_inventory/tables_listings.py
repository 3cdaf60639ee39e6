"""Tables of layers 3-4 (on the inventory's metadata): the allocation rule sets, and the projections of what
other services decide (nodes from fulfillment; sales products and channel listings from product) with the
sellable quantity last published per listing."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Index,
    Integer,
    String,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB

from .tables import metadata

# Every accepted rule document, whole; the highest version is the one in force.
rule_sets = Table(
    "rule_sets",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("document", JSONB, nullable=False),
    Column("note", Text, nullable=False, server_default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("version >= 1", name="rule_sets_version_positive"),
)

known_nodes = Table(
    "known_nodes",
    metadata,
    Column("node_code", String(64), primary_key=True),
    Column("type", String(16), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

sales_products = Table(
    "sales_products",
    metadata,
    Column("code", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("version", BigInteger, nullable=False),
)

# One row per (sales product, material): what a unit of the product takes (a single: one row, qty 1).
sales_product_materials = Table(
    "sales_product_materials",
    metadata,
    Column("sales_product_code", String(64), primary_key=True),
    Column("material_code", String(64), primary_key=True),
    Column("qty", BigInteger, nullable=False),
    CheckConstraint("qty > 0", name="sales_product_materials_qty_positive"),
    Index("sales_product_materials_material", "material_code"),
)

listings = Table(
    "listings",
    metadata,
    Column("listing_id", Text, primary_key=True),
    Column("channel", String(64), nullable=False),
    Column("shop_id", String(64), nullable=False),
    Column("channel_item_id", Text, nullable=False),
    Column("channel_sku_id", Text, nullable=True),
    Column("sales_product_code", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("version", BigInteger, nullable=False),
    Index("listings_sales_product", "sales_product_code"),
)

# What was last published per listing (quantity NULL: nothing yet); locked while a listing is recomputed.
listing_stock = Table(
    "listing_stock",
    metadata,
    Column("listing_id", Text, primary_key=True),
    Column("quantity", BigInteger, nullable=True),
    Column("seq", BigInteger, nullable=False, server_default="0"),
    Column("rules_version", Integer, nullable=False, server_default="0"),
    Column("computed_at", DateTime(timezone=True), nullable=True),
    CheckConstraint("quantity IS NULL OR quantity >= 0", name="listing_stock_quantity_not_negative"),
)
