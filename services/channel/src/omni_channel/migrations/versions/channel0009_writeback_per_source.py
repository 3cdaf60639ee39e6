"""shipment write-back per platform order: a merged order (合单) has one channel_order_refs row per source
(keyed by order and platform order), and a shipped task one write-back per source (task_id and
source_order_id on shipment_writebacks; an order of its own keeps writeback_id = task id)

Revision ID: channel0009
Revises: channel0008
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "channel0009"
down_revision = "channel0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # every existing ref is an order of its own: one row per order, still one per (order, platform order)
    op.add_column("channel_order_refs", sa.Column("source_order_id", sa.Text, nullable=True))
    op.drop_constraint("channel_order_refs_pk", "channel_order_refs", type_="primary")
    op.create_primary_key("channel_order_refs_pk", "channel_order_refs", ["order_id", "channel_order_id"])
    # every existing write-back is its task's own (writeback_id = task id)
    op.add_column("shipment_writebacks", sa.Column("task_id", sa.Text, nullable=True))
    op.execute("UPDATE shipment_writebacks SET task_id = writeback_id")
    op.alter_column("shipment_writebacks", "task_id", nullable=False)
    op.add_column("shipment_writebacks", sa.Column("source_order_id", sa.Text, nullable=True))
    op.create_index("shipment_writebacks_by_task", "shipment_writebacks", ["task_id"])


def downgrade() -> None:
    op.drop_index("shipment_writebacks_by_task", table_name="shipment_writebacks")
    op.drop_column("shipment_writebacks", "source_order_id")
    op.drop_column("shipment_writebacks", "task_id")
    # one ref per order again: a merged order keeps its first platform order (the others are lost)
    op.execute(
        "DELETE FROM channel_order_refs a USING channel_order_refs b "
        "WHERE a.order_id = b.order_id AND a.channel_order_id > b.channel_order_id"
    )
    op.drop_constraint("channel_order_refs_pk", "channel_order_refs", type_="primary")
    op.create_primary_key("channel_order_refs_pk", "channel_order_refs", ["order_id"])
    op.drop_column("channel_order_refs", "source_order_id")
