"""after-sales returns: ledger kind return-restock; return_lines, one row per (case, line) of an
order.return-received applied at its node (what makes a repeat change nothing, and the record of the
defective units a return brought in)

Revision ID: inventory0009
Revises: inventory0008
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "inventory0009"
down_revision = "inventory0008"
branch_labels = None
depends_on = None

OLD = (
    "kind IN ('receipt', 'adjustment', 'reservation', 'release', 'shipment', 'freeze', 'unfreeze', "
    "'quality', 'count', 'transfer-out', 'transfer-in', 'transfer-loss', 'store-sale', 'store-return')"
)
NEW = (
    "kind IN ('receipt', 'adjustment', 'reservation', 'release', 'shipment', 'freeze', 'unfreeze', "
    "'quality', 'count', 'transfer-out', 'transfer-in', 'transfer-loss', 'store-sale', 'store-return', "
    "'return-restock')"
)


def upgrade() -> None:
    op.drop_constraint("movements_kind", "movements", type_="check")
    op.create_check_constraint("movements_kind", "movements", NEW)
    op.create_table(
        "return_lines",
        sa.Column("case_id", sa.Text, nullable=False),
        sa.Column("line_id", sa.Text, nullable=False),
        sa.Column("order_id", sa.Text, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("node_code", sa.String(64), nullable=False),
        sa.Column("material_code", sa.String(64), nullable=False),
        sa.Column("good_qty", sa.BigInteger, nullable=False),
        sa.Column("defective_qty", sa.BigInteger, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("case_id", "line_id", name="return_lines_pk"),
        sa.CheckConstraint("good_qty >= 0 AND defective_qty >= 0", name="return_lines_qty"),
    )
    op.create_index("return_lines_stock", "return_lines", ["node_code", "material_code", "at"])


def downgrade() -> None:
    op.drop_table("return_lines")
    op.execute("DELETE FROM movements WHERE kind = 'return-restock'")
    op.drop_constraint("movements_kind", "movements", type_="check")
    op.create_check_constraint("movements_kind", "movements", OLD)
