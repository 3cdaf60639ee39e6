"""The after-sales intake's table (channel0005, channel0008): one row per (channel, refund id, status)
and one per closed order (kind `close`, ref_id the order id, status its first close): what makes a repeat
publish nothing."""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import UUID

from .tables import metadata

received_after_sales = Table(
    "received_after_sales",
    metadata,
    Column("channel", Text, nullable=False),
    Column("kind", Text, nullable=False),  # refund | close
    Column("ref_id", Text, nullable=False),  # the platform refund id, or the order id of a close
    Column("channel_status", Text, nullable=False),
    Column("shop_id", Text, nullable=False),
    Column("channel_order_id", Text, nullable=False),
    Column("event_id", UUID(as_uuid=True), nullable=False),
    Column("deliveries", Integer, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("last_received_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("channel", "kind", "ref_id", "channel_status", name="received_after_sales_pk"),
    CheckConstraint("kind IN ('refund', 'close')", name="received_after_sales_kind"),
    # a close is once per order, whatever its status (channel0008): the first close wins
    Index(
        "received_after_sales_close_once",
        "channel",
        "ref_id",
        unique=True,
        postgresql_where=text("kind = 'close'"),
    ),
    Index("received_after_sales_order", "channel", "channel_order_id"),
)
