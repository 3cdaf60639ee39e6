"""fulfillment: split by type - the group of a reservation's and a task's lines

Revision ID: fulfillment0003
Revises: fulfillment0002
Create Date: 2026-12-09
"""

import sqlalchemy as sa
from alembic import op

revision = "fulfillment0003"
down_revision = "fulfillment0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULL: the order's main group (every row made before groups existed)
    op.add_column("reservations", sa.Column("line_group", sa.Text, nullable=True))
    op.add_column("tasks", sa.Column("line_group", sa.Text, nullable=True))


def downgrade() -> None:
    op.drop_column("tasks", "line_group")
    op.drop_column("reservations", "line_group")
