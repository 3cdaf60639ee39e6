"""order: split by type (拆单) - each order line's group (sourced and shipped apart) and whether it ships
(virtual and service lines are fulfilled by the OMS), and the kinds the rules asked to split

Revision ID: order0013
Revises: order0012
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "order0013"
down_revision = "order0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("order_lines", sa.Column("group", sa.Text))
    op.add_column("order_lines", sa.Column("ships", sa.Boolean, nullable=False, server_default=sa.true()))
    op.add_column(
        "orders", sa.Column("split_kinds", ARRAY(sa.Text), nullable=False, server_default=sa.text("'{}'"))
    )


def downgrade() -> None:
    op.drop_column("orders", "split_kinds")
    op.drop_column("order_lines", "ships")
    op.drop_column("order_lines", "group")
