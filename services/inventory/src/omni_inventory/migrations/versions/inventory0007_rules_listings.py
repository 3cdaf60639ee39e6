"""allocation rules, listing projection and sellable stock (issue #8 layers 3-4)

Revision ID: inventory0007
Revises: inventory0006
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "inventory0007"
down_revision = "inventory0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rule_sets",
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("document", JSONB, nullable=False),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("version >= 1", name="rule_sets_version_positive"),
    )
    op.create_table(
        "known_nodes",
        sa.Column("node_code", sa.String(64), primary_key=True),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "sales_products",
        sa.Column("code", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("version", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "sales_product_materials",
        sa.Column("sales_product_code", sa.String(64), primary_key=True),
        sa.Column("material_code", sa.String(64), primary_key=True),
        sa.Column("qty", sa.BigInteger, nullable=False),
        sa.CheckConstraint("qty > 0", name="sales_product_materials_qty_positive"),
    )
    op.create_index("sales_product_materials_material", "sales_product_materials", ["material_code"])
    op.create_table(
        "listings",
        sa.Column("listing_id", sa.Text, primary_key=True),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("shop_id", sa.String(64), nullable=False),
        sa.Column("channel_item_id", sa.Text, nullable=False),
        sa.Column("channel_sku_id", sa.Text, nullable=True),
        sa.Column("sales_product_code", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("version", sa.BigInteger, nullable=False),
    )
    op.create_index("listings_sales_product", "listings", ["sales_product_code"])
    op.create_table(
        "listing_stock",
        sa.Column("listing_id", sa.Text, primary_key=True),
        sa.Column("quantity", sa.BigInteger, nullable=True),
        sa.Column("seq", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("rules_version", sa.Integer, nullable=False, server_default="0"),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("quantity IS NULL OR quantity >= 0", name="listing_stock_quantity_not_negative"),
    )


def downgrade() -> None:
    for table in (
        "listing_stock",
        "listings",
        "sales_product_materials",
        "sales_products",
        "known_nodes",
        "rule_sets",
    ):
        op.drop_table(table)
