"""shipment write-back: channel_order_refs (order.accepted's platform order) and shipment_writebacks

Revision ID: channel0004
Revises: channel0003
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "channel0004"
down_revision = "channel0003"
branch_labels = None
depends_on = None

STATES = ("waiting", "pending", "retrying", "acknowledged", "refused", "credentials", "unsupported")


def upgrade() -> None:
    op.create_table(
        "channel_order_refs",
        sa.Column("order_id", sa.Text, nullable=False),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("shop_id", sa.Text, nullable=False),
        sa.Column("channel_order_id", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("order_id", name="channel_order_refs_pk"),
    )
    op.create_table(
        "shipment_writebacks",
        sa.Column("writeback_id", sa.Text, nullable=False),
        sa.Column("order_id", sa.Text, nullable=False),
        sa.Column("channel", sa.Text, nullable=True),
        sa.Column("shop_id", sa.Text, nullable=True),
        sa.Column("channel_order_id", sa.Text, nullable=True),
        sa.Column("carrier", sa.Text, nullable=False),
        sa.Column("tracking_no", sa.Text, nullable=False),
        sa.Column("company_code", sa.Text, nullable=True),
        sa.Column("shipped_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("code", sa.Integer, nullable=True),
        sa.Column("sub_code", sa.Text, nullable=True),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claim_token", sa.Text, nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("writeback_id", name="shipment_writebacks_pk"),
        sa.CheckConstraint(f"state IN {STATES}", name="shipment_writebacks_state"),
    )
    op.create_index(
        "shipment_writebacks_due",
        "shipment_writebacks",
        ["next_attempt_at"],
        postgresql_where=sa.text("next_attempt_at IS NOT NULL"),
    )
    op.create_index("shipment_writebacks_by_order", "shipment_writebacks", ["order_id"])
    op.create_index("shipment_writebacks_by_state", "shipment_writebacks", ["state", "writeback_id"])
    op.create_index(
        "shipment_writebacks_by_channel_order", "shipment_writebacks", ["channel", "channel_order_id"]
    )


def downgrade() -> None:
    op.drop_table("shipment_writebacks")
    op.drop_table("channel_order_refs")
