"""stock, movements, reservations, receipts, adjustments

Revision ID: inventory0001
Revises:
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "inventory0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stock",
        sa.Column("node_code", sa.String(64), nullable=False),
        sa.Column("material_code", sa.String(64), nullable=False),
        sa.Column("on_hand", sa.BigInteger, nullable=False),
        sa.Column("reserved", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("frozen", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("node_code", "material_code", name="stock_pkey"),
        sa.CheckConstraint("on_hand >= 0", name="stock_on_hand_not_negative"),
        sa.CheckConstraint("reserved >= 0", name="stock_reserved_not_negative"),
        sa.CheckConstraint("frozen >= 0", name="stock_frozen_not_negative"),
        sa.CheckConstraint("reserved + frozen <= on_hand", name="stock_no_oversell"),
    )
    op.create_index("stock_material", "stock", ["material_code"])

    op.create_table(
        "movements",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("node_code", sa.String(64), nullable=False),
        sa.Column("material_code", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("delta_on_hand", sa.BigInteger, nullable=False),
        sa.Column("delta_reserved", sa.BigInteger, nullable=False),
        sa.Column("on_hand_after", sa.BigInteger, nullable=False),
        sa.Column("reserved_after", sa.BigInteger, nullable=False),
        sa.Column("frozen_after", sa.BigInteger, nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("reference", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('receipt', 'adjustment', 'reservation', 'release', 'shipment')", name="movements_kind"
        ),
    )
    op.create_index("movements_stock", "movements", ["node_code", "material_code", "id"])
    op.create_index("movements_reference", "movements", ["reference"])

    op.create_table(
        "reservations",
        sa.Column("reservation_id", sa.Text, primary_key=True),
        sa.Column("order_id", sa.Text, nullable=False),
        sa.Column("node_code", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("lines", postgresql.JSONB, nullable=False),
        sa.Column("shortfall", postgresql.JSONB, nullable=True),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('reserved', 'refused', 'released', 'consumed')", name="reservations_status"
        ),
    )
    op.create_index("reservations_order", "reservations", ["order_id"])

    op.create_table(
        "receipts",
        sa.Column("receipt_id", sa.Text, primary_key=True),
        sa.Column("node_code", sa.String(64), nullable=False),
        sa.Column("lines", postgresql.JSONB, nullable=False),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )

    op.create_table(
        "adjustments",
        sa.Column("adjustment_id", sa.Text, primary_key=True),
        sa.Column("node_code", sa.String(64), nullable=False),
        sa.Column("material_code", sa.String(64), nullable=False),
        sa.Column("delta", sa.BigInteger, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("delta <> 0", name="adjustments_delta_not_zero"),
    )


def downgrade() -> None:
    op.drop_table("adjustments")
    op.drop_table("receipts")
    op.drop_index("reservations_order", table_name="reservations")
    op.drop_table("reservations")
    op.drop_index("movements_reference", table_name="movements")
    op.drop_index("movements_stock", table_name="movements")
    op.drop_table("movements")
    op.drop_index("stock_material", table_name="stock")
    op.drop_table("stock")
