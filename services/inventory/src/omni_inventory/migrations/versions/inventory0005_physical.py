"""quality states, cycle counts, transfers and in-transit (issue #8 layers 1-2)

Revision ID: inventory0005
Revises: inventory0004
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "inventory0005"
down_revision = "inventory0004"
branch_labels = None
depends_on = None

OLD = "kind IN ('receipt', 'adjustment', 'reservation', 'release', 'shipment', 'freeze', 'unfreeze')"
NEW = (
    "kind IN ('receipt', 'adjustment', 'reservation', 'release', 'shipment', 'freeze', 'unfreeze', "
    "'quality', 'count', 'transfer-out', 'transfer-in', 'transfer-loss')"
)
STATES = "('good', 'defective', 'quarantined')"
TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.drop_constraint("movements_kind", "movements", type_="check")
    op.create_check_constraint("movements_kind", "movements", NEW)
    op.create_table(
        "quality_stock",
        sa.Column("node_code", sa.String(64), nullable=False),
        sa.Column("material_code", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("qty", sa.BigInteger, nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("node_code", "material_code", "state", name="quality_stock_pkey"),
        sa.CheckConstraint("state IN ('defective', 'quarantined')", name="quality_stock_state"),
        sa.CheckConstraint("qty >= 0", name="quality_stock_qty_not_negative"),
    )
    op.create_table(
        "quality_moves",
        sa.Column("move_id", sa.Text, primary_key=True),
        sa.Column("node_code", sa.String(64), nullable=False),
        sa.Column("material_code", sa.String(64), nullable=False),
        sa.Column("qty", sa.BigInteger, nullable=False),
        sa.Column("from_state", sa.String(16), nullable=False),
        sa.Column("to_state", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.CheckConstraint("qty > 0", name="quality_moves_qty_positive"),
        sa.CheckConstraint(f"from_state IN {STATES}", name="quality_moves_from"),
        sa.CheckConstraint(f"to_state IN {STATES}", name="quality_moves_to"),
        sa.CheckConstraint("from_state <> to_state", name="quality_moves_distinct"),
    )
    op.create_index("quality_moves_stock", "quality_moves", ["node_code", "material_code"])
    op.create_table(
        "counts",
        sa.Column("count_id", sa.Text, primary_key=True),
        sa.Column("node_code", sa.String(64), nullable=False),
        sa.Column("lines", JSONB, nullable=False),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_index("counts_node", "counts", ["node_code", "created_at"])
    op.create_table(
        "transfers",
        sa.Column("transfer_id", sa.Text, primary_key=True),
        sa.Column("source_node", sa.String(64), nullable=False),
        sa.Column("target_node", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("lines", JSONB, nullable=False),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("shipped_at", TZ, nullable=True),
        sa.Column("received_at", TZ, nullable=True),
        sa.Column("cancelled_at", TZ, nullable=True),
        sa.Column("updated_at", TZ, nullable=False),
        sa.CheckConstraint("source_node <> target_node", name="transfers_distinct_nodes"),
        sa.CheckConstraint(
            "status IN ('created', 'shipped', 'received', 'cancelled')", name="transfers_status"
        ),
    )
    op.create_index("transfers_source", "transfers", ["source_node", "created_at"])
    op.create_index("transfers_target", "transfers", ["target_node", "created_at"])
    op.create_table(
        "in_transit",
        sa.Column("node_code", sa.String(64), nullable=False),
        sa.Column("material_code", sa.String(64), nullable=False),
        sa.Column("qty", sa.BigInteger, nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("node_code", "material_code", name="in_transit_pkey"),
        sa.CheckConstraint("qty >= 0", name="in_transit_qty_not_negative"),
    )


def downgrade() -> None:
    for table in ("in_transit", "transfers", "counts", "quality_moves", "quality_stock"):
        op.drop_table(table)
    op.execute(
        "DELETE FROM movements WHERE kind IN ('quality', 'count', 'transfer-out', 'transfer-in', "
        "'transfer-loss')"
    )
    op.drop_constraint("movements_kind", "movements", type_="check")
    op.create_check_constraint("movements_kind", "movements", OLD)
