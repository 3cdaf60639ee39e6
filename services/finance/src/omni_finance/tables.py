"""Finance's tables (SQLAlchemy Core on the service's own metadata); the migrations (finance0001..) create
exactly these (a test compares them)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.orm import registry
from sqlmodel import SQLModel


class Base(SQLModel, registry=registry()):
    """This service's own metadata (never SQLModel's global one: services share a test process)."""


metadata = Base.metadata

ORDER_LINES_REFUNDS = (
    "cancelled_qty >= 0 AND refunded_qty >= cancelled_qty AND shipped_qty + cancelled_qty <= qty "
    "AND refunded_qty - cancelled_qty <= shipped_qty AND deferred_refund_cents >= 0 "
    "AND revenue_refund_cents >= 0 AND revenue_refund_cents <= recognized_cents "
    "AND recognized_cents + deferred_refund_cents <= amount_cents"
)
VOUCHER_KINDS = (
    "kind IN ('sale', 'revenue', 'reversal', 'store-sale', 'store-return', 'refund', 'compensation', "
    "'payment', 'freight')"
)
CARRIER_COST = (
    "(carrier IS NULL) = (cost_cents IS NULL) AND cost_cents >= 0 AND attempt >= 1 "
    "AND (booked_at IS NULL) = (booked_cents IS NULL) AND booked_cents >= 0"
)

# -- tables --
# A merged order (合单, domain/merge.py): which platform orders it holds, which of its lines came from which.
# Finance books the sources, each in `orders` like an order of its own (`orders.merged_order_id` = M); M has
# no projection and no voucher of its own. Written once, with M's order.accepted.
merged_orders = Table(
    "merged_orders",
    metadata,
    Column("order_id", Text, primary_key=True),
    Column("channel", Text, nullable=False),
    Column("currency", Text, nullable=False),
    Column("accepted_event_id", PgUUID(as_uuid=True), nullable=False),
    Column("accepted_at", DateTime(timezone=True), nullable=False),
)

merged_sources = Table(
    "merged_sources",
    metadata,
    Column("merged_order_id", Text, ForeignKey("merged_orders.order_id"), nullable=False),
    Column("source_order_id", Text, nullable=False),
    Column("position", Integer, nullable=False),
    Column("shop_id", Text, nullable=False),
    Column("channel_order_id", Text, nullable=False),
    Column("goods_paid_cents", BigInteger, nullable=False),
    Column("post_fee_cents", BigInteger, nullable=False),
    Column("paid_cents", BigInteger, nullable=False),
    Column("paid_at", DateTime(timezone=True), nullable=True),
    PrimaryKeyConstraint("merged_order_id", "source_order_id", name="merged_sources_pkey"),
    UniqueConstraint("merged_order_id", "position", name="merged_sources_position"),
    CheckConstraint(
        "goods_paid_cents >= 0 AND post_fee_cents >= 0 AND paid_cents = goods_paid_cents + post_fee_cents",
        name="merged_sources_amounts",
    ),
    Index("merged_sources_source", "source_order_id"),
)

merged_lines = Table(
    "merged_lines",
    metadata,
    Column("merged_order_id", Text, nullable=False),
    Column("line_no", Integer, nullable=False),
    Column("line_id", Text, nullable=False),
    Column("source_order_id", Text, nullable=False),
    Column("material_code", Text, nullable=False),
    Column("qty", Integer, nullable=False),
    PrimaryKeyConstraint("merged_order_id", "line_no", name="merged_lines_pkey"),
    UniqueConstraint("merged_order_id", "line_id", name="merged_lines_line_id"),
    ForeignKeyConstraint(
        ["merged_order_id", "source_order_id"],
        ["merged_sources.merged_order_id", "merged_sources.source_order_id"],
        name="merged_lines_source",
    ),
    CheckConstraint("qty > 0", name="merged_lines_qty"),
)

accounts = Table(
    "accounts",
    metadata,
    Column("code", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("type", Text, nullable=False),
    Column("normal_side", Text, nullable=False),
    CheckConstraint("type IN ('asset', 'liability', 'revenue', 'expense')", name="accounts_type"),
    CheckConstraint("normal_side IN ('debit', 'credit')", name="accounts_normal_side"),
)

orders = Table(
    "orders",
    metadata,
    Column("order_id", Text, primary_key=True),
    Column("channel", Text, nullable=False),
    Column("channel_order_id", Text, nullable=False),
    Column("currency", Text, nullable=False),
    Column("goods_paid_cents", BigInteger, nullable=False),
    Column("post_fee_cents", BigInteger, nullable=False),
    Column("paid_cents", BigInteger, nullable=False),
    Column("status", Text, nullable=False),
    Column("freight_recognized", Boolean, nullable=False),
    Column("sale_voucher_id", PgUUID(as_uuid=True), nullable=True),
    Column("accepted_event_id", PgUUID(as_uuid=True), nullable=False),
    Column("accepted_at", DateTime(timezone=True), nullable=False),
    Column("cancelled_at", DateTime(timezone=True), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # set while the order is booked as a source of this merged order (None: booked on its own)
    Column("merged_order_id", Text, ForeignKey("merged_orders.order_id"), nullable=True),
    # paid | on_account (B2B credit terms: the sale debits the buyer's receivable, not the platform's wallet)
    Column("payment", Text, nullable=False, server_default="paid"),
    Column("freight_refund_cents", BigInteger, nullable=False, server_default="0"),
    CheckConstraint("status IN ('accepted', 'shipping', 'cancelled')", name="orders_status"),
    CheckConstraint(
        "goods_paid_cents >= 0 AND post_fee_cents >= 0 AND paid_cents = goods_paid_cents + post_fee_cents",
        name="orders_amounts",
    ),
    CheckConstraint("payment IN ('paid', 'on_account')", name="orders_payment"),
    CheckConstraint(
        "freight_refund_cents >= 0 AND freight_refund_cents <= post_fee_cents", name="orders_freight_refund"
    ),
)

order_lines = Table(
    "order_lines",
    metadata,
    Column("order_id", Text, ForeignKey("orders.order_id"), nullable=False),
    Column("line_no", Integer, nullable=False),
    Column("line_id", Text, nullable=False),
    Column("material_code", Text, nullable=False),
    Column("qty", Integer, nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    Column("shipped_qty", Integer, nullable=False),
    Column("recognized_cents", BigInteger, nullable=False),
    # refunds (domain/projection.py): units refunded, of them not yet left; goods money refunded, by where
    Column("refunded_qty", Integer, nullable=False, server_default="0"),
    Column("cancelled_qty", Integer, nullable=False, server_default="0"),
    Column("deferred_refund_cents", BigInteger, nullable=False, server_default="0"),
    Column("revenue_refund_cents", BigInteger, nullable=False, server_default="0"),
    PrimaryKeyConstraint("order_id", "line_no", name="order_lines_pkey"),
    UniqueConstraint("order_id", "line_id", name="order_lines_line_id"),
    CheckConstraint("qty > 0 AND shipped_qty >= 0 AND shipped_qty <= qty", name="order_lines_qty"),
    CheckConstraint(
        "amount_cents >= 0 AND recognized_cents >= 0 AND recognized_cents <= amount_cents",
        name="order_lines_amounts",
    ),
    CheckConstraint(ORDER_LINES_REFUNDS, name="order_lines_refunds"),
)

# B2B credit terms (domain/credit.py): the receivables ledger of 112201 per buyer's credit account, one row
# per order sold on account.
receivables = Table(
    "receivables",
    metadata,
    Column("order_id", Text, ForeignKey("orders.order_id"), primary_key=True),
    Column("credit_account", Text, nullable=False),
    Column("currency", Text, nullable=False),
    Column("account_code", Text, ForeignKey("accounts.code"), nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    Column("credited_cents", BigInteger, nullable=False),
    Column("paid_cents", BigInteger, nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=True),
    Column("status", Text, nullable=False),
    Column("sale_voucher_id", PgUUID(as_uuid=True), nullable=False),
    Column("payment_voucher_id", PgUUID(as_uuid=True), nullable=True),
    Column("payment_reference", Text, nullable=True),
    Column("booked_at", DateTime(timezone=True), nullable=False),
    Column("cleared_at", DateTime(timezone=True), nullable=True),
    Column("cancelled_at", DateTime(timezone=True), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("status IN ('open', 'cleared', 'cancelled')", name="receivables_status"),
    CheckConstraint(
        "amount_cents > 0 AND credited_cents >= 0 AND paid_cents >= 0", name="receivables_amounts"
    ),
    Index("receivables_account", "credit_account", "status", "due_at"),
)

# One row per task and order booked; a merged order's task: one row per source order it carried goods of.
shipments = Table(
    "shipments",
    metadata,
    Column("task_id", Text, nullable=False),
    Column("order_id", Text, ForeignKey("orders.order_id"), nullable=False),
    Column("source_event_id", PgUUID(as_uuid=True), nullable=False),
    Column("source_event_type", Text, nullable=False),
    Column("node_code", Text, nullable=False),
    Column("goods_cents", BigInteger, nullable=False),
    Column("freight_cents", BigInteger, nullable=False),
    Column("voucher_id", PgUUID(as_uuid=True), nullable=True),
    Column("left_at", DateTime(timezone=True), nullable=False),
    Column("merged_order_id", Text, ForeignKey("merged_orders.order_id"), nullable=True),
    # the carrier it left with (fulfillment.shipped); None for a pickup, and for rows from before finance0005
    Column("carrier", Text, nullable=True),
    PrimaryKeyConstraint("task_id", "order_id", name="shipments_pkey"),
    UniqueConstraint("source_event_id", "order_id", name="shipments_source_event"),
    Index("shipments_order", "order_id"),
)

# Freight (domain/freight.py): the carrier choice in force per task (fulfillment.carrier-chosen, the latest
# attempt) and what was booked of it once the task shipped - the payables ledger of 2202 per carrier.
carrier_costs = Table(
    "carrier_costs",
    metadata,
    Column("task_id", Text, primary_key=True),
    Column("order_id", Text, nullable=False),  # the event's order: a merged order's own id
    Column("node_code", Text, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("carrier", Text, nullable=True),
    Column("cost_cents", BigInteger, nullable=True),
    Column("currency", Text, nullable=False),
    Column("source_event_id", PgUUID(as_uuid=True), nullable=False),
    Column("chosen_at", DateTime(timezone=True), nullable=False),
    Column("booked_carrier", Text, nullable=True),
    Column("booked_cents", BigInteger, nullable=True),
    Column("booked_at", DateTime(timezone=True), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    CheckConstraint(CARRIER_COST, name="carrier_costs_amounts"),
    Index("carrier_costs_order", "order_id"),
    Index("carrier_costs_booked_carrier", "booked_carrier"),
)

vouchers = Table(
    "vouchers",
    metadata,
    Column("voucher_id", PgUUID(as_uuid=True), primary_key=True),
    Column("seq", BigInteger, Identity(), nullable=False, unique=True),  # posting order
    Column("order_id", Text, nullable=True),
    Column("kind", Text, nullable=False),
    Column("source_event_id", PgUUID(as_uuid=True), nullable=False),
    Column("source_event_type", Text, nullable=False),
    Column("summary", Text, nullable=False),
    Column("currency", Text, nullable=False),
    Column("total_cents", BigInteger, nullable=False),
    Column("reverses_voucher_id", PgUUID(as_uuid=True), ForeignKey("vouchers.voucher_id"), nullable=True),
    Column("posted_at", DateTime(timezone=True), nullable=False),
    # one voucher of a kind per event and order (a merged order's event books one per source order)
    UniqueConstraint(
        "source_event_id", "kind", "order_id", name="vouchers_source_kind", postgresql_nulls_not_distinct=True
    ),
    CheckConstraint(VOUCHER_KINDS, name="vouchers_kind"),
    CheckConstraint("total_cents > 0", name="vouchers_total"),
    Index("vouchers_order", "order_id", "seq"),
)

voucher_lines = Table(
    "voucher_lines",
    metadata,
    Column("voucher_id", PgUUID(as_uuid=True), nullable=False),
    Column("line_no", Integer, nullable=False),
    Column("account_code", Text, ForeignKey("accounts.code"), nullable=False),
    Column("debit_cents", BigInteger, nullable=False),
    Column("credit_cents", BigInteger, nullable=False),
    PrimaryKeyConstraint("voucher_id", "line_no", name="voucher_lines_pkey"),
    ForeignKeyConstraint(["voucher_id"], ["vouchers.voucher_id"], name="voucher_lines_voucher_id_fkey"),
    CheckConstraint(
        "debit_cents >= 0 AND credit_cents >= 0 AND (debit_cents = 0) <> (credit_cents = 0)",
        name="voucher_lines_one_side",
    ),
    Index("voucher_lines_account", "account_code"),
)
