"""freight (issue #11, carrier routing): the accounts 2202 应付账款-承运商 and 660102 销售费用-运费;
the voucher kind freight; the carrier each shipment left with; the carrier choice in force per task and
what was booked of it (carrier_costs)

Revision ID: finance0005
Revises: finance0004
Create Date: 2026-12-10
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "finance0005"
down_revision = "finance0004"
branch_labels = None
depends_on = None

UUID = postgresql.UUID(as_uuid=True)
TZ = sa.DateTime(timezone=True)

# Frozen here (a migration never changes); omni_finance.domain.accounts.CHART must agree (tested).
ACCOUNTS = [
    ("2202", "应付账款-承运商", "liability", "credit"),
    ("660102", "销售费用-运费", "expense", "debit"),
]
OLD_KINDS = (
    "kind IN ('sale', 'revenue', 'reversal', 'store-sale', 'store-return', 'refund', 'compensation', "
    "'payment')"
)
NEW_KINDS = (
    "kind IN ('sale', 'revenue', 'reversal', 'store-sale', 'store-return', 'refund', 'compensation', "
    "'payment', 'freight')"
)
CARRIER_COST = (
    "(carrier IS NULL) = (cost_cents IS NULL) AND cost_cents >= 0 AND attempt >= 1 "
    "AND (booked_at IS NULL) = (booked_cents IS NULL) AND booked_cents >= 0"
)


def upgrade() -> None:
    accounts = sa.table("accounts", sa.column("code"), sa.column("name"), sa.column("type"),
                        sa.column("normal_side"))  # fmt: skip
    op.bulk_insert(
        accounts, [dict(zip(("code", "name", "type", "normal_side"), a, strict=True)) for a in ACCOUNTS]
    )
    op.drop_constraint("vouchers_kind", "vouchers", type_="check")
    op.create_check_constraint("vouchers_kind", "vouchers", NEW_KINDS)
    op.add_column("shipments", sa.Column("carrier", sa.Text, nullable=True))
    op.create_table(
        "carrier_costs",
        sa.Column("task_id", sa.Text, primary_key=True),
        sa.Column("order_id", sa.Text, nullable=False),
        sa.Column("node_code", sa.Text, nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("carrier", sa.Text, nullable=True),
        sa.Column("cost_cents", sa.BigInteger, nullable=True),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("source_event_id", UUID, nullable=False),
        sa.Column("chosen_at", TZ, nullable=False),
        sa.Column("booked_carrier", sa.Text, nullable=True),
        sa.Column("booked_cents", sa.BigInteger, nullable=True),
        sa.Column("booked_at", TZ, nullable=True),
        sa.Column("updated_at", TZ, nullable=False),
        sa.CheckConstraint(CARRIER_COST, name="carrier_costs_amounts"),
    )
    op.create_index("carrier_costs_order", "carrier_costs", ["order_id"])
    op.create_index("carrier_costs_booked_carrier", "carrier_costs", ["booked_carrier"])


def downgrade() -> None:
    op.drop_index("carrier_costs_booked_carrier", table_name="carrier_costs")
    op.drop_index("carrier_costs_order", table_name="carrier_costs")
    op.drop_table("carrier_costs")
    op.drop_column("shipments", "carrier")
    op.execute(
        "DELETE FROM voucher_lines WHERE voucher_id IN "
        "(SELECT voucher_id FROM vouchers WHERE kind = 'freight')"
    )
    op.execute("DELETE FROM vouchers WHERE kind = 'freight'")
    op.drop_constraint("vouchers_kind", "vouchers", type_="check")
    op.create_check_constraint("vouchers_kind", "vouchers", OLD_KINDS)
    op.execute("DELETE FROM accounts WHERE code IN ('2202', '660102')")
