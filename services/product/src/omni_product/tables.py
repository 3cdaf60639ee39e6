"""The product service's tables (its own metadata; the hand-written migrations create exactly these)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import registry
from sqlmodel import SQLModel

from omni_contracts.events.product import HANDLING_CLASSES

HANDLING_CHECK = "handling IN (" + ", ".join(f"'{h}'" for h in HANDLING_CLASSES) + ")"


class Base(SQLModel, registry=registry()):
    """This service's own metadata (never SQLModel's global one: services share a test process)."""


metadata = Base.metadata


def _timestamps() -> list[Column[Any]]:
    return [
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    ]


materials = Table(
    "materials",
    metadata,
    Column("code", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("barcode", Text, nullable=True, unique=True),  # NULLs do not clash
    Column("unit", Text, nullable=False),
    Column("weight_g", Integer, nullable=False),
    Column("high_value", Boolean, nullable=False),
    Column("active", Boolean, nullable=False),
    # the facts order rules decide on (product0002): see services/product/docs/material-facts.md
    Column("category", Text, nullable=False, server_default=""),
    Column("tags", ARRAY(Text), nullable=False, server_default="{}"),
    Column("handling", Text, nullable=False, server_default="normal"),
    Column("tax_rate_bp", Integer, nullable=False, server_default="1300"),
    Column("version", Integer, nullable=False),
    *_timestamps(),
    CheckConstraint("weight_g >= 0", name="materials_weight_nonneg"),
    CheckConstraint(HANDLING_CHECK, name="materials_handling"),
    CheckConstraint("tax_rate_bp BETWEEN 0 AND 10000", name="materials_tax_rate_bp"),
    Index("materials_category", "category", postgresql_ops={"category": "text_pattern_ops"}),
    Index("materials_tags", "tags", postgresql_using="gin"),
)

sales_products = Table(
    "sales_products",
    metadata,
    Column("code", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("version", Integer, nullable=False),
    *_timestamps(),
    CheckConstraint("kind IN ('single', 'bundle')", name="sales_products_kind"),
)

sales_product_components = Table(
    "sales_product_components",
    metadata,
    Column(
        "sales_product_code",
        Text,
        ForeignKey("sales_products.code", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("position", Integer, primary_key=True),
    Column("material_code", Text, ForeignKey("materials.code"), nullable=False),
    Column("qty", Integer, nullable=False),
    Column("price_weight", Integer, nullable=False),
    CheckConstraint("qty > 0", name="components_qty_pos"),
    CheckConstraint("price_weight > 0", name="components_weight_pos"),
    Index("components_material", "material_code"),
    Index("components_unique_material", "sales_product_code", "material_code", unique=True),
)

channel_listings = Table(
    "channel_listings",
    metadata,
    Column("listing_id", Text, primary_key=True),
    Column("channel", Text, nullable=False),
    Column("shop_id", Text, nullable=False),
    Column("channel_item_id", Text, nullable=False),
    Column("channel_sku_id", Text, nullable=True),
    Column("outer_id", Text, nullable=True),
    Column("sales_product_code", Text, ForeignKey("sales_products.code"), nullable=False),
    Column("price_cents", BigInteger, nullable=False),
    Column("currency", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("version", Integer, nullable=False),
    *_timestamps(),
    CheckConstraint("price_cents >= 0", name="listings_price_nonneg"),
    CheckConstraint("status IN ('on_sale', 'off_sale')", name="listings_status"),
)
# One listing per (channel, shop, item, sku); a single-SKU item has no sku id (NULL counts as '').
LISTING_KEY_INDEX = "listings_channel_key"
Index(
    LISTING_KEY_INDEX,
    channel_listings.c.channel,
    channel_listings.c.shop_id,
    channel_listings.c.channel_item_id,
    func.coalesce(channel_listings.c.channel_sku_id, ""),
    unique=True,
)
Index("listings_sales_product", channel_listings.c.sales_product_code)
Index(
    "listings_outer_id", channel_listings.c.channel, channel_listings.c.shop_id, channel_listings.c.outer_id
)
