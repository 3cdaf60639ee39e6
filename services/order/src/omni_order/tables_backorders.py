"""Tables of backorders: each order that waited for stock, with its place, and what it waits for
(SQLAlchemy Core; only `store_backorders` queries them).

A row stays once the order leaves backorder (re-sourced, escalated, cancelled): an order that comes back to
backorder keeps its first `since`, so its place (oldest first) and its age.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, PrimaryKeyConstraint, Table, Text

from .tables import TS, metadata

order_backorders = Table(
    "order_backorders",
    metadata,
    Column("order_id", Text, ForeignKey("orders.order_id", ondelete="CASCADE"), primary_key=True),
    Column("since", TS, nullable=False),  # the first time it became a backorder: its place
    Column("last_at", TS, nullable=False),  # the latest time it became a backorder
    Column("times", Integer, nullable=False),  # how many times it became one
    Column("due_at", TS, nullable=False),  # when it escalates (since + the policy's max age)
    Column("on_overdue", Text, nullable=False),  # hold | cancel, the policy when it became one
    Column("reason", Text, nullable=False),  # fulfillment's words
    Column("resourced_at", TS),  # the latest re-sourcing (backorder -> accepted)
    Column("escalated_at", TS),
    Column("escalation", Text),  # held | cancelled
    Index("order_backorders_by_since", "since", "order_id"),
)

order_backorder_shortfalls = Table(
    "order_backorder_shortfalls",
    metadata,
    Column("order_id", Text, ForeignKey("order_backorders.order_id", ondelete="CASCADE"), nullable=False),
    Column("material_code", Text, nullable=False),
    Column("requested", Integer, nullable=False),
    Column("available", Integer, nullable=False),
    Column("missing", Integer, nullable=False),
    PrimaryKeyConstraint("order_id", "material_code", name="order_backorder_shortfalls_pk"),
    Index("order_backorder_shortfalls_by_material", "material_code", "order_id"),
)
