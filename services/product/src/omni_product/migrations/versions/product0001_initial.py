"""product: materials, sales products (with components), channel listings

Revision ID: product0001
Revises:
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "product0001"
down_revision = None
branch_labels = None
depends_on = None


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    ]


def upgrade() -> None:
    op.create_table(
        "materials",
        sa.Column("code", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("barcode", sa.Text, nullable=True, unique=True),
        sa.Column("unit", sa.Text, nullable=False),
        sa.Column("weight_g", sa.Integer, nullable=False),
        sa.Column("high_value", sa.Boolean, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        *_timestamps(),
        sa.CheckConstraint("weight_g >= 0", name="materials_weight_nonneg"),
    )
    op.create_table(
        "sales_products",
        sa.Column("code", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        *_timestamps(),
        sa.CheckConstraint("kind IN ('single', 'bundle')", name="sales_products_kind"),
    )
    op.create_table(
        "sales_product_components",
        sa.Column(
            "sales_product_code",
            sa.Text,
            sa.ForeignKey("sales_products.code", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("material_code", sa.Text, sa.ForeignKey("materials.code"), nullable=False),
        sa.Column("qty", sa.Integer, nullable=False),
        sa.Column("price_weight", sa.Integer, nullable=False),
        sa.CheckConstraint("qty > 0", name="components_qty_pos"),
        sa.CheckConstraint("price_weight > 0", name="components_weight_pos"),
    )
    op.create_index("components_material", "sales_product_components", ["material_code"])
    op.create_index(
        "components_unique_material",
        "sales_product_components",
        ["sales_product_code", "material_code"],
        unique=True,
    )
    op.create_table(
        "channel_listings",
        sa.Column("listing_id", sa.Text, primary_key=True),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("shop_id", sa.Text, nullable=False),
        sa.Column("channel_item_id", sa.Text, nullable=False),
        sa.Column("channel_sku_id", sa.Text, nullable=True),
        sa.Column("outer_id", sa.Text, nullable=True),
        sa.Column("sales_product_code", sa.Text, sa.ForeignKey("sales_products.code"), nullable=False),
        sa.Column("price_cents", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        *_timestamps(),
        sa.CheckConstraint("price_cents >= 0", name="listings_price_nonneg"),
        sa.CheckConstraint("status IN ('on_sale', 'off_sale')", name="listings_status"),
    )
    op.create_index(
        "listings_channel_key",
        "channel_listings",
        ["channel", "shop_id", "channel_item_id", sa.text("coalesce(channel_sku_id, '')")],
        unique=True,
    )
    op.create_index("listings_sales_product", "channel_listings", ["sales_product_code"])
    op.create_index("listings_outer_id", "channel_listings", ["channel", "shop_id", "outer_id"])


def downgrade() -> None:
    op.drop_table("channel_listings")
    op.drop_table("sales_product_components")
    op.drop_table("sales_products")
    op.drop_table("materials")
