"""order: the partners of an order with their commission shares (orders.partners, JSONB), set by the
strategy's roles (S2B2C distributors from the channel's chain, named agents or stores) and carried by
order.accepted with the roles for finance

Revision ID: order0011
Revises: order0010
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "order0011"
down_revision = "order0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "orders", sa.Column("partners", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb"))
    )


def downgrade() -> None:
    op.drop_column("orders", "partners")
