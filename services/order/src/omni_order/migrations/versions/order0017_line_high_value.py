"""order: each material line says whether its material is high-value (its fact at intake), carried by
order.accepted so fulfillment can prefer the nodes dedicated to high-value goods

Revision ID: order0017
Revises: order0016
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "order0017"
down_revision = "order0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "order_lines", sa.Column("high_value", sa.Boolean, nullable=False, server_default=sa.text("false"))
    )


def downgrade() -> None:
    op.drop_column("order_lines", "high_value")
