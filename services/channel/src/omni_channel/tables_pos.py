"""The POS intake's tables (migration channel0007): which store node a POS shop sells from (and how its
tenders map to ours), and the projection of product's POS listings (which sales product a till's product
is)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB

from .tables import metadata

pos_stores = Table(
    "pos_stores",
    metadata,
    Column("shop_id", Text, nullable=False),
    Column("node_code", Text, nullable=False),
    # the POS's tender ids ("payment_method_id:2", "journal_id:5") -> our tender (cash, wechat, …)
    Column("payment_methods", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("shop_id", name="pos_stores_pk"),
)

# From product.channel-listing.upserted with channel "pos": channel_item_id is the till's product id
# (Odoo product.product id), outer_id its default_code.
pos_listings = Table(
    "pos_listings",
    metadata,
    Column("shop_id", Text, nullable=False),
    Column("pos_product_id", Text, nullable=False),
    Column("listing_id", Text, nullable=False),
    Column("outer_id", Text, nullable=True),
    Column("sales_product_code", Text, nullable=False),
    Column("on_sale", Boolean, nullable=False),
    Column("version", BigInteger, nullable=False),
    PrimaryKeyConstraint("shop_id", "pos_product_id", name="pos_listings_pk"),
    UniqueConstraint("listing_id", name="pos_listings_listing"),
    Index("pos_listings_outer", "shop_id", "outer_id"),
)
