"""POS store sales: pos_stores (which store node a POS shop sells from, its tenders) and pos_listings (the POS
listings of product: which sales product a till's product is)

Revision ID: channel0007
Revises: channel0006
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "channel0007"
down_revision = "channel0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pos_stores",
        sa.Column("shop_id", sa.Text, nullable=False),
        sa.Column("node_code", sa.Text, nullable=False),
        sa.Column("payment_methods", JSONB, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("shop_id", name="pos_stores_pk"),
    )
    op.create_table(
        "pos_listings",
        sa.Column("shop_id", sa.Text, nullable=False),
        sa.Column("pos_product_id", sa.Text, nullable=False),
        sa.Column("listing_id", sa.Text, nullable=False),
        sa.Column("outer_id", sa.Text, nullable=True),
        sa.Column("sales_product_code", sa.Text, nullable=False),
        sa.Column("on_sale", sa.Boolean, nullable=False),
        sa.Column("version", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("shop_id", "pos_product_id", name="pos_listings_pk"),
        sa.UniqueConstraint("listing_id", name="pos_listings_listing"),
    )
    op.create_index("pos_listings_outer", "pos_listings", ["shop_id", "outer_id"])


def downgrade() -> None:
    op.drop_table("pos_listings")
    op.drop_table("pos_stores")
