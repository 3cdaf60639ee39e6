"""freezes: stock held back with a reason, and the freeze movements in the ledger

Revision ID: inventory0004
Revises: inventory0003
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "inventory0004"
down_revision = "inventory0003"
branch_labels = None
depends_on = None

OLD = "kind IN ('receipt', 'adjustment', 'reservation', 'release', 'shipment')"
NEW = "kind IN ('receipt', 'adjustment', 'reservation', 'release', 'shipment', 'freeze', 'unfreeze')"


def upgrade() -> None:
    op.drop_constraint("movements_kind", "movements", type_="check")
    op.create_check_constraint("movements_kind", "movements", NEW)
    op.create_table(
        "freezes",
        sa.Column("freeze_id", sa.Text, primary_key=True),
        sa.Column("node_code", sa.String(64), nullable=False),
        sa.Column("material_code", sa.String(64), nullable=False),
        sa.Column("qty", sa.BigInteger, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("release_reason", sa.Text, nullable=True),
        sa.CheckConstraint("qty > 0", name="freezes_qty_positive"),
    )
    op.create_index("freezes_stock", "freezes", ["node_code", "material_code"])


def downgrade() -> None:
    op.drop_table("freezes")
    op.execute("DELETE FROM movements WHERE kind IN ('freeze', 'unfreeze')")
    op.drop_constraint("movements_kind", "movements", type_="check")
    op.create_check_constraint("movements_kind", "movements", OLD)
