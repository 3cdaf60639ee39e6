"""partial intercepts: intercept_lines, one row per (case, reservation, order line) of a
fulfillment.lines-intercepted applied (what the reservation gave back; what makes a repeat change nothing)

Revision ID: inventory0010
Revises: inventory0009
Create Date: 2026-12-10
"""

import sqlalchemy as sa
from alembic import op

revision = "inventory0010"
down_revision = "inventory0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "intercept_lines",
        sa.Column("case_id", sa.Text, nullable=False),
        sa.Column("reservation_id", sa.Text, nullable=False),
        sa.Column("line_id", sa.Text, nullable=False),
        sa.Column("order_id", sa.Text, nullable=False),
        sa.Column("node_code", sa.String(64), nullable=False),
        sa.Column("material_code", sa.String(64), nullable=False),
        sa.Column("qty", sa.BigInteger, nullable=False),
        sa.Column("released", sa.BigInteger, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("case_id", "reservation_id", "line_id", name="intercept_lines_pk"),
        sa.CheckConstraint("qty > 0 AND released >= 0 AND released <= qty", name="intercept_lines_qty"),
    )


def downgrade() -> None:
    op.drop_table("intercept_lines")
