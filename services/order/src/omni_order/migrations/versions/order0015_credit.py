"""order: B2B credit terms (账期) - an order's payment (paid | on_account), due date and credit account;
the open credit per account and each order counted against it

Revision ID: order0015
Revises: order0014
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "order0015"
down_revision = "order0014"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("orders", sa.Column("payment", sa.Text, nullable=False, server_default=sa.text("'paid'")))
    op.add_column("orders", sa.Column("due_at", TS))
    op.add_column("orders", sa.Column("credit_account", sa.Text))
    op.create_table(
        "credit_accounts",
        sa.Column("account", sa.Text, primary_key=True),
        sa.Column("open_cents", sa.BigInteger, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.CheckConstraint("open_cents >= 0", name="credit_accounts_open_not_negative"),
    )
    op.create_table(
        "credit_orders",
        sa.Column(
            "order_id", sa.Text, sa.ForeignKey("orders.order_id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("account", sa.Text, nullable=False),
        sa.Column("amount_cents", sa.BigInteger, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("limit_cents", sa.BigInteger),
        sa.Column("taken_at", TS, nullable=False),
        sa.Column("due_at", TS),
        sa.Column("closed_at", TS),
        sa.Column("reference", sa.Text),
        sa.CheckConstraint("status IN ('open', 'paid', 'cancelled')", name="credit_orders_status"),
    )
    op.create_index("credit_orders_by_account", "credit_orders", ["account", "status"])


def downgrade() -> None:
    op.drop_index("credit_orders_by_account", table_name="credit_orders")
    op.drop_table("credit_orders")
    op.drop_table("credit_accounts")
    op.drop_column("orders", "credit_account")
    op.drop_column("orders", "due_at")
    op.drop_column("orders", "payment")
