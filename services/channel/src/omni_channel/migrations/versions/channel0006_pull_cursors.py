"""order pull: pull_cursors (one row per (channel, shop): the cursor, the window in progress, its next page,
counts and the last error); received_orders may record a pulled order refused as invalid

Revision ID: channel0006
Revises: channel0005
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "channel0006"
down_revision = "channel0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pull_cursors",
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("shop_id", sa.Text, nullable=False),
        sa.Column("cursor", sa.DateTime(timezone=True), nullable=True),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("page", sa.Integer, nullable=False, server_default=sa.text("1")),
        sa.Column("fetched", sa.BigInteger, nullable=False, server_default=sa.text("0")),
        sa.Column("published", sa.BigInteger, nullable=False, server_default=sa.text("0")),
        sa.Column("refused", sa.BigInteger, nullable=False, server_default=sa.text("0")),
        sa.Column("failures", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("channel", "shop_id", name="pull_cursors_pk"),
        sa.CheckConstraint("page >= 1", name="pull_cursors_page"),
        sa.CheckConstraint(
            "(window_start IS NULL) = (window_end IS NULL) "
            "AND (window_start IS NULL OR window_start < window_end)",
            name="pull_cursors_window",
        ),
    )
    op.drop_constraint("received_orders_outcome", "received_orders", type_="check")
    op.create_check_constraint(
        "received_orders_outcome", "received_orders", "outcome IN ('published', 'ignored', 'refused')"
    )


def downgrade() -> None:
    op.execute("DELETE FROM received_orders WHERE outcome = 'refused'")
    op.drop_constraint("received_orders_outcome", "received_orders", type_="check")
    op.create_check_constraint(
        "received_orders_outcome", "received_orders", "outcome IN ('published', 'ignored')"
    )
    op.drop_table("pull_cursors")
