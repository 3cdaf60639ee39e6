"""Tables of B2B credit terms (账期): the open credit per buyer account, and each order on account
(SQLAlchemy Core; only `store_credit` queries them)."""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, Column, ForeignKey, Index, Table, Text

from .tables import TS, metadata

# one row per credit account (<channel>:<buyer>): what its orders on account owe, not yet paid nor
# cancelled; locked FOR UPDATE while an intake checks its limit, so two partitions cannot both take the
# last of a buyer's credit
credit_accounts = Table(
    "credit_accounts",
    metadata,
    Column("account", Text, primary_key=True),
    Column("open_cents", BigInteger, nullable=False),
    Column("updated_at", TS, nullable=False),
    CheckConstraint("open_cents >= 0", name="credit_accounts_open_not_negative"),
)

# an order counted against an account: open until paid or cancelled (then the account's open_cents goes
# down by its amount, once)
credit_orders = Table(
    "credit_orders",
    metadata,
    Column("order_id", Text, ForeignKey("orders.order_id", ondelete="CASCADE"), primary_key=True),
    Column("account", Text, nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    Column("status", Text, nullable=False),  # open | paid | cancelled
    Column("limit_cents", BigInteger),  # the limit it was checked against (None: released over it)
    Column("taken_at", TS, nullable=False),
    Column("due_at", TS),
    Column("closed_at", TS),
    Column("reference", Text),  # the payment's reference
    CheckConstraint("status IN ('open', 'paid', 'cancelled')", name="credit_orders_status"),
    Index("credit_orders_by_account", "account", "status"),
)
