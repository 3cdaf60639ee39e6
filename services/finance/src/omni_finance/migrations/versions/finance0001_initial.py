"""finance: chart of accounts (seeded), order projection, shipments, vouchers and their lines

Revision ID: finance0001
Revises:
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "finance0001"
down_revision = None
branch_labels = None
depends_on = None

UUID = postgresql.UUID(as_uuid=True)

# Frozen here (a migration never changes); omni_finance.domain.accounts.CHART must agree (tested).
CHART = [
    ("1122", "应收账款-平台", "asset", "debit"),
    ("2205", "合同负债", "liability", "credit"),
    ("2206", "合同负债-运费", "liability", "credit"),
    ("6001", "主营业务收入", "revenue", "credit"),
    ("6051", "其他业务收入-运费", "revenue", "credit"),
]


def upgrade() -> None:
    accounts = op.create_table(
        "accounts",
        sa.Column("code", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("normal_side", sa.Text, nullable=False),
        sa.CheckConstraint("type IN ('asset', 'liability', 'revenue', 'expense')", name="accounts_type"),
        sa.CheckConstraint("normal_side IN ('debit', 'credit')", name="accounts_normal_side"),
    )
    op.bulk_insert(
        accounts, [dict(zip(("code", "name", "type", "normal_side"), row, strict=True)) for row in CHART]
    )

    op.create_table(
        "orders",
        sa.Column("order_id", sa.Text, primary_key=True),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("channel_order_id", sa.Text, nullable=False),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("goods_paid_cents", sa.BigInteger, nullable=False),
        sa.Column("post_fee_cents", sa.BigInteger, nullable=False),
        sa.Column("paid_cents", sa.BigInteger, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("freight_recognized", sa.Boolean, nullable=False),
        sa.Column("sale_voucher_id", UUID, nullable=True),
        sa.Column("accepted_event_id", UUID, nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('accepted', 'shipping', 'cancelled')", name="orders_status"),
        sa.CheckConstraint(
            "goods_paid_cents >= 0 AND post_fee_cents >= 0 "
            "AND paid_cents = goods_paid_cents + post_fee_cents",
            name="orders_amounts",
        ),
    )
    op.create_table(
        "order_lines",
        sa.Column("order_id", sa.Text, sa.ForeignKey("orders.order_id"), nullable=False),
        sa.Column("line_no", sa.Integer, nullable=False),
        sa.Column("line_id", sa.Text, nullable=False),
        sa.Column("material_code", sa.Text, nullable=False),
        sa.Column("qty", sa.Integer, nullable=False),
        sa.Column("amount_cents", sa.BigInteger, nullable=False),
        sa.Column("shipped_qty", sa.Integer, nullable=False),
        sa.Column("recognized_cents", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("order_id", "line_no", name="order_lines_pkey"),
        sa.UniqueConstraint("order_id", "line_id", name="order_lines_line_id"),
        sa.CheckConstraint("qty > 0 AND shipped_qty >= 0 AND shipped_qty <= qty", name="order_lines_qty"),
        sa.CheckConstraint(
            "amount_cents >= 0 AND recognized_cents >= 0 AND recognized_cents <= amount_cents",
            name="order_lines_amounts",
        ),
    )
    op.create_table(
        "shipments",
        sa.Column("task_id", sa.Text, primary_key=True),
        sa.Column("order_id", sa.Text, sa.ForeignKey("orders.order_id"), nullable=False),
        sa.Column("source_event_id", UUID, nullable=False, unique=True),
        sa.Column("source_event_type", sa.Text, nullable=False),
        sa.Column("node_code", sa.Text, nullable=False),
        sa.Column("goods_cents", sa.BigInteger, nullable=False),
        sa.Column("freight_cents", sa.BigInteger, nullable=False),
        sa.Column("voucher_id", UUID, nullable=True),
        sa.Column("left_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("shipments_order", "shipments", ["order_id"])

    op.create_table(
        "vouchers",
        sa.Column("voucher_id", UUID, primary_key=True),
        sa.Column("seq", sa.BigInteger, sa.Identity(), nullable=False, unique=True),
        sa.Column("order_id", sa.Text, nullable=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("source_event_id", UUID, nullable=False),
        sa.Column("source_event_type", sa.Text, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("total_cents", sa.BigInteger, nullable=False),
        sa.Column("reverses_voucher_id", UUID, sa.ForeignKey("vouchers.voucher_id"), nullable=True),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("source_event_id", "kind", name="vouchers_source_kind"),
        sa.CheckConstraint("kind IN ('sale', 'revenue', 'reversal')", name="vouchers_kind"),
        sa.CheckConstraint("total_cents > 0", name="vouchers_total"),
    )
    op.create_index("vouchers_order", "vouchers", ["order_id", "seq"])
    op.create_table(
        "voucher_lines",
        sa.Column("voucher_id", UUID, nullable=False),
        sa.Column("line_no", sa.Integer, nullable=False),
        sa.Column("account_code", sa.Text, sa.ForeignKey("accounts.code"), nullable=False),
        sa.Column("debit_cents", sa.BigInteger, nullable=False),
        sa.Column("credit_cents", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("voucher_id", "line_no", name="voucher_lines_pkey"),
        sa.ForeignKeyConstraint(
            ["voucher_id"], ["vouchers.voucher_id"], name="voucher_lines_voucher_id_fkey"
        ),
        sa.CheckConstraint(
            "debit_cents >= 0 AND credit_cents >= 0 AND (debit_cents = 0) <> (credit_cents = 0)",
            name="voucher_lines_one_side",
        ),
    )
    op.create_index("voucher_lines_account", "voucher_lines", ["account_code"])
    # Double entry, enforced by the database too: after each statement that inserts voucher lines, every
    # voucher it touched must balance and match its total. (Lines of one voucher go in one statement.)
    op.execute(
        """
        CREATE FUNCTION finance_vouchers_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE bad uuid;
        BEGIN
            SELECT l.voucher_id INTO bad
              FROM voucher_lines l JOIN vouchers v USING (voucher_id)
             WHERE l.voucher_id IN (SELECT DISTINCT voucher_id FROM new_lines)
             GROUP BY l.voucher_id, v.total_cents
            HAVING sum(l.debit_cents) <> sum(l.credit_cents) OR sum(l.debit_cents) <> v.total_cents
             LIMIT 1;
            IF bad IS NOT NULL THEN
                RAISE EXCEPTION 'voucher % does not balance (debits, credits and total differ)', bad
                    USING ERRCODE = 'check_violation';
            END IF;
            RETURN NULL;
        END $$;
        """
    )
    op.execute(
        "CREATE TRIGGER voucher_lines_balanced AFTER INSERT ON voucher_lines "
        "REFERENCING NEW TABLE AS new_lines FOR EACH STATEMENT EXECUTE FUNCTION finance_vouchers_balanced()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS voucher_lines_balanced ON voucher_lines")
    op.execute("DROP FUNCTION IF EXISTS finance_vouchers_balanced()")
    op.drop_table("voucher_lines")
    op.drop_table("vouchers")
    op.drop_table("shipments")
    op.drop_table("order_lines")
    op.drop_table("orders")
    op.drop_table("accounts")
