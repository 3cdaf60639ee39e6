"""after-sales and B2B credit terms: the accounts 112201 应收账款-账期客户 and 660101 销售费用-售后赔付; the
voucher kinds refund, compensation and payment; what refunds took of each order line and of the freight;
how an order was paid (paid | on_account); the receivables ledger of orders sold on account

Revision ID: finance0004
Revises: finance0003
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "finance0004"
down_revision = "finance0003"
branch_labels = None
depends_on = None

UUID = postgresql.UUID(as_uuid=True)
TZ = sa.DateTime(timezone=True)

# Frozen here (a migration never changes); omni_finance.domain.accounts.CHART must agree (tested).
ACCOUNTS = [
    ("112201", "应收账款-账期客户", "asset", "debit"),
    ("660101", "销售费用-售后赔付", "expense", "debit"),
]
OLD_KINDS = "kind IN ('sale', 'revenue', 'reversal', 'store-sale', 'store-return')"
NEW_KINDS = (
    "kind IN ('sale', 'revenue', 'reversal', 'store-sale', 'store-return', 'refund', 'compensation', "
    "'payment')"
)
LINE_REFUNDS = (
    "cancelled_qty >= 0 AND refunded_qty >= cancelled_qty AND shipped_qty + cancelled_qty <= qty "
    "AND refunded_qty - cancelled_qty <= shipped_qty AND deferred_refund_cents >= 0 "
    "AND revenue_refund_cents >= 0 AND revenue_refund_cents <= recognized_cents "
    "AND recognized_cents + deferred_refund_cents <= amount_cents"
)


def upgrade() -> None:
    accounts = sa.table("accounts", sa.column("code"), sa.column("name"), sa.column("type"),
                        sa.column("normal_side"))  # fmt: skip
    op.bulk_insert(
        accounts, [dict(zip(("code", "name", "type", "normal_side"), a, strict=True)) for a in ACCOUNTS]
    )
    op.drop_constraint("vouchers_kind", "vouchers", type_="check")
    op.create_check_constraint("vouchers_kind", "vouchers", NEW_KINDS)

    op.add_column("orders", sa.Column("payment", sa.Text, nullable=False, server_default="paid"))
    op.add_column(
        "orders", sa.Column("freight_refund_cents", sa.BigInteger, nullable=False, server_default="0")
    )
    op.create_check_constraint("orders_payment", "orders", "payment IN ('paid', 'on_account')")
    op.create_check_constraint(
        "orders_freight_refund",
        "orders",
        "freight_refund_cents >= 0 AND freight_refund_cents <= post_fee_cents",
    )
    line_columns = [
        ("refunded_qty", sa.Integer),
        ("cancelled_qty", sa.Integer),
        ("deferred_refund_cents", sa.BigInteger),
        ("revenue_refund_cents", sa.BigInteger),
    ]
    for name, type_ in line_columns:
        op.add_column("order_lines", sa.Column(name, type_, nullable=False, server_default="0"))
    op.create_check_constraint("order_lines_refunds", "order_lines", LINE_REFUNDS)

    op.create_table(
        "receivables",
        sa.Column("order_id", sa.Text, sa.ForeignKey("orders.order_id"), primary_key=True),
        sa.Column("credit_account", sa.Text, nullable=False),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("account_code", sa.Text, sa.ForeignKey("accounts.code"), nullable=False),
        sa.Column("amount_cents", sa.BigInteger, nullable=False),
        sa.Column("credited_cents", sa.BigInteger, nullable=False),
        sa.Column("paid_cents", sa.BigInteger, nullable=False),
        sa.Column("due_at", TZ, nullable=True),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("sale_voucher_id", UUID, nullable=False),
        sa.Column("payment_voucher_id", UUID, nullable=True),
        sa.Column("payment_reference", sa.Text, nullable=True),
        sa.Column("booked_at", TZ, nullable=False),
        sa.Column("cleared_at", TZ, nullable=True),
        sa.Column("cancelled_at", TZ, nullable=True),
        sa.Column("updated_at", TZ, nullable=False),
        sa.CheckConstraint("status IN ('open', 'cleared', 'cancelled')", name="receivables_status"),
        sa.CheckConstraint(
            "amount_cents > 0 AND credited_cents >= 0 AND paid_cents >= 0", name="receivables_amounts"
        ),
    )
    op.create_index("receivables_account", "receivables", ["credit_account", "status", "due_at"])


def downgrade() -> None:
    # Only possible while nothing was sold on account (sales on 112201 would keep the account referenced).
    op.drop_index("receivables_account", table_name="receivables")
    op.drop_table("receivables")
    op.drop_constraint("order_lines_refunds", "order_lines", type_="check")
    for name in ("refunded_qty", "cancelled_qty", "deferred_refund_cents", "revenue_refund_cents"):
        op.drop_column("order_lines", name)
    op.drop_constraint("orders_freight_refund", "orders", type_="check")
    op.drop_constraint("orders_payment", "orders", type_="check")
    op.drop_column("orders", "freight_refund_cents")
    op.drop_column("orders", "payment")
    op.execute(
        "DELETE FROM voucher_lines WHERE voucher_id IN "
        "(SELECT voucher_id FROM vouchers WHERE kind IN ('refund', 'compensation', 'payment'))"
    )
    op.execute("DELETE FROM vouchers WHERE kind IN ('refund', 'compensation', 'payment')")
    op.drop_constraint("vouchers_kind", "vouchers", type_="check")
    op.create_check_constraint("vouchers_kind", "vouchers", OLD_KINDS)
    op.execute("DELETE FROM accounts WHERE code IN ('112201', '660101')")
