"""Tables of gifts: what each order was given (and by which rule), the counters the caps are checked
against, and the stock per node the order service has seen (SQLAlchemy Core; only `store_gifts` queries
them)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Integer, PrimaryKeyConstraint, Table, Text

from .tables import TS, metadata

gift_grants = Table(
    "gift_grants",
    metadata,
    Column("order_id", Text, ForeignKey("orders.order_id", ondelete="CASCADE"), nullable=False),
    Column("gift_id", Text, nullable=False),
    Column("rule", Text, nullable=False),  # "rule <id> (<rule set> v<n>)"
    Column("buyer_key", Text, nullable=False),  # <channel>:<buyer nick>
    Column("material_code", Text, nullable=False),  # the gift's, or the substitute given
    Column("qty", Integer, nullable=False),
    Column("sets", Integer, nullable=False),
    Column("granted_at", TS, nullable=False),
    PrimaryKeyConstraint("order_id", "gift_id"),
)

# one row per (gift id, scope): scope '*' counts every buyer, '<channel>:<nick>' one buyer; locked FOR
# UPDATE while an order's gifts are decided, so two partitions cannot both give the last set
gift_counters = Table(
    "gift_counters",
    metadata,
    Column("gift_id", Text, nullable=False),
    Column("scope", Text, nullable=False),
    Column("sets", BigInteger, nullable=False),
    Column("updated_at", TS, nullable=False),
    PrimaryKeyConstraint("gift_id", "scope"),
)

# inventory.stock-changed as seen by the order-stock group: the newest `seq` per (node, material) wins
stock_seen = Table(
    "stock_seen",
    metadata,
    Column("node_code", Text, nullable=False),
    Column("material_code", Text, nullable=False),
    Column("available", BigInteger, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("changed_at", TS, nullable=False),
    PrimaryKeyConstraint("material_code", "node_code"),
)
