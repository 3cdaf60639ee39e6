"""order: the route hints the rules set on an order (orders.route_hints, JSONB), carried by order.accepted
with its priority and tags for sourcing to honour

Revision ID: order0009
Revises: order0008
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "order0009"
down_revision = "order0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "orders", sa.Column("route_hints", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb"))
    )


def downgrade() -> None:
    op.drop_column("orders", "route_hints")
