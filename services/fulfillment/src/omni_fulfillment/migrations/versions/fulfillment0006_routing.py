"""fulfillment: routing - a node's business hours, holidays, capacity, same-city radius, load band, pools and
high-value flag; what an order asks of routing (delivery, route hints, high-value materials); the indexes
a node's load is counted with

Revision ID: fulfillment0006
Revises: fulfillment0005
Create Date: 2026-12-14
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "fulfillment0006"
down_revision = "fulfillment0005"
branch_labels = None
depends_on = None

NODE_COLUMNS = (
    ("timezone", sa.Text, False, sa.text("'Asia/Shanghai'")),
    ("hours", postgresql.JSONB, False, sa.text("'[]'::jsonb")),
    ("holidays", postgresql.JSONB, False, sa.text("'[]'::jsonb")),
    ("orders_per_day", sa.Integer, True, None),
    ("max_open_tasks", sa.Integer, True, None),
    ("same_city_radius_km", sa.Float, True, None),
    ("load_band_km", sa.Float, False, sa.text("2.0")),
    ("pools", postgresql.JSONB, False, sa.text("'[]'::jsonb")),
    ("high_value", sa.Boolean, False, sa.text("false")),
)


def upgrade() -> None:
    for name, type_, nullable, default in NODE_COLUMNS:
        op.add_column("nodes", sa.Column(name, type_, nullable=nullable, server_default=default))
    op.add_column(
        "sourcing",
        sa.Column("routing", postgresql.JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    )
    op.create_index(
        "reservations_node_pending",
        "reservations",
        ["node_code"],
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index("tasks_node_created", "tasks", ["node_code", "created_at"])


def downgrade() -> None:
    op.drop_index("tasks_node_created", table_name="tasks")
    op.drop_index("reservations_node_pending", table_name="reservations")
    op.drop_column("sourcing", "routing")
    for name, *_ in reversed(NODE_COLUMNS):
        op.drop_column("nodes", name)
