"""store sales (issue #9, POS): the accounts a till's takings are booked to (cash, bank, other monetary funds,
advance receipts, output VAT) and the voucher kinds store-sale / store-return

Revision ID: finance0002
Revises: finance0001
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "finance0002"
down_revision = "finance0001"
branch_labels = None
depends_on = None

# Frozen here (a migration never changes); omni_finance.domain.accounts.CHART must agree (tested).
ACCOUNTS = [
    ("1001", "库存现金", "asset", "debit"),
    ("1002", "银行存款", "asset", "debit"),
    ("1012", "其他货币资金", "asset", "debit"),
    ("2203", "预收账款", "liability", "credit"),
    ("222101", "应交税费-应交增值税(销项税额)", "liability", "credit"),
]
OLD = "kind IN ('sale', 'revenue', 'reversal')"
NEW = "kind IN ('sale', 'revenue', 'reversal', 'store-sale', 'store-return')"


def upgrade() -> None:
    accounts = sa.table("accounts", sa.column("code"), sa.column("name"), sa.column("type"),
                        sa.column("normal_side"))  # fmt: skip
    op.bulk_insert(
        accounts, [dict(zip(("code", "name", "type", "normal_side"), a, strict=True)) for a in ACCOUNTS]
    )
    op.drop_constraint("vouchers_kind", "vouchers", type_="check")
    op.create_check_constraint("vouchers_kind", "vouchers", NEW)


def downgrade() -> None:
    op.execute(
        "DELETE FROM voucher_lines WHERE voucher_id IN "
        "(SELECT voucher_id FROM vouchers WHERE kind IN ('store-sale', 'store-return'))"
    )
    op.execute("DELETE FROM vouchers WHERE kind IN ('store-sale', 'store-return')")
    op.drop_constraint("vouchers_kind", "vouchers", type_="check")
    op.create_check_constraint("vouchers_kind", "vouchers", OLD)
    op.execute("DELETE FROM accounts WHERE code IN ('1001', '1002', '1012', '2203', '222101')")
