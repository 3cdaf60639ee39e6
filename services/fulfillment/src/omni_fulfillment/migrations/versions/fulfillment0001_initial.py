"""fulfillment: nodes, stock projection, sourcing, reservations, tasks

Revision ID: fulfillment0001
Revises:
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "fulfillment0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "nodes",
        sa.Column("code", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("city", sa.Text, nullable=False),
        sa.Column("lat", sa.Float, nullable=False),
        sa.Column("lng", sa.Float, nullable=False),
        sa.Column("priority", sa.Integer, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "stock",
        sa.Column("node_code", sa.Text, primary_key=True),
        sa.Column("material_code", sa.Text, primary_key=True),
        sa.Column("available", sa.Integer, nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("stock_material", "stock", ["material_code"])
    op.create_table(
        "sourcing",
        sa.Column("order_id", sa.Text, primary_key=True),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("lines", postgresql.JSONB, nullable=False),
        sa.Column("dest_lat", sa.Float, nullable=True),
        sa.Column("dest_lng", sa.Float, nullable=True),
        sa.Column("pickup_node", sa.Text, nullable=True),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("excluded", postgresql.JSONB, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "reservations",
        sa.Column("reservation_id", sa.Text, primary_key=True),
        sa.Column("order_id", sa.Text, nullable=False),
        sa.Column("node_code", sa.Text, nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("lines", postgresql.JSONB, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("reservations_order", "reservations", ["order_id"])
    op.create_table(
        "tasks",
        sa.Column("task_id", sa.Text, primary_key=True),
        sa.Column("order_id", sa.Text, nullable=False),
        sa.Column("node_code", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("reservation_id", sa.Text, nullable=False, unique=True),
        sa.Column("lines", postgresql.JSONB, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("pickup_code", sa.Text, nullable=True),
        sa.Column("accepted_by", sa.Text, nullable=True),
        sa.Column("carrier", sa.Text, nullable=True),
        sa.Column("tracking_no", sa.Text, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("accepted_at", TS, nullable=True),
        sa.Column("done_at", TS, nullable=True),
        sa.Column("cancelled_at", TS, nullable=True),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("tasks_order", "tasks", ["order_id"])
    op.create_index("tasks_node_status", "tasks", ["node_code", "status", "created_at"])
    op.create_index("tasks_status", "tasks", ["status", "created_at"])


def downgrade() -> None:
    op.drop_table("tasks")
    op.drop_table("reservations")
    op.drop_table("sourcing")
    op.drop_table("stock")
    op.drop_table("nodes")
