"""store sales (issue #9, POS): ledger kinds store-sale and store-return; store_sale_lines, one row per (sale,
line, material) taken out of or back into a store's stock (what makes a repeat change nothing, and what a sale
could not take off the books)

Revision ID: inventory0008
Revises: inventory0007
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "inventory0008"
down_revision = "inventory0007"
branch_labels = None
depends_on = None

OLD = (
    "kind IN ('receipt', 'adjustment', 'reservation', 'release', 'shipment', 'freeze', 'unfreeze', "
    "'quality', 'count', 'transfer-out', 'transfer-in', 'transfer-loss')"
)
NEW = (
    "kind IN ('receipt', 'adjustment', 'reservation', 'release', 'shipment', 'freeze', 'unfreeze', "
    "'quality', 'count', 'transfer-out', 'transfer-in', 'transfer-loss', 'store-sale', 'store-return')"
)


def upgrade() -> None:
    op.drop_constraint("movements_kind", "movements", type_="check")
    op.create_check_constraint("movements_kind", "movements", NEW)
    op.create_table(
        "store_sale_lines",
        sa.Column("line_ref", sa.Text, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("node_code", sa.String(64), nullable=False),
        sa.Column("material_code", sa.String(64), nullable=False),
        sa.Column("qty", sa.BigInteger, nullable=False),
        sa.Column("booked", sa.BigInteger, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("line_ref", name="store_sale_lines_pk"),
        sa.CheckConstraint("kind IN ('store-sale', 'store-return')", name="store_sale_lines_kind"),
        sa.CheckConstraint("qty > 0 AND booked >= 0 AND booked <= qty", name="store_sale_lines_qty"),
    )
    op.create_index("store_sale_lines_short", "store_sale_lines", ["node_code", "at"],
                    postgresql_where=sa.text("booked < qty"))  # fmt: skip


def downgrade() -> None:
    op.drop_table("store_sale_lines")
    op.execute("DELETE FROM movements WHERE kind IN ('store-sale', 'store-return')")
    op.drop_constraint("movements_kind", "movements", type_="check")
    op.create_check_constraint("movements_kind", "movements", OLD)
