"""After-sales cases 售后单 (see domain/aftersales.py): the case, what it refunds or takes back of each
material line, and the history of its states (with the platform status that moved it: one row per
(case, status), so a platform's refund id and status are applied once). Tables on `tables.metadata`;
queried only by `store_aftersales.AfterSalesQueries`."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import UUID

from .tables import metadata

TS = DateTime(timezone=True)

aftersales_cases = Table(
    "aftersales_cases",
    metadata,
    Column("case_id", Text, primary_key=True),
    Column("order_id", Text, ForeignKey("orders.order_id", ondelete="CASCADE"), nullable=False),
    Column("channel", Text, nullable=False),
    Column("shop_id", Text, nullable=False),
    Column("channel_order_id", Text, nullable=False),
    Column("channel_refund_id", Text),  # NULL: created by an operator
    Column("kind", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("source", Text, nullable=False),  # channel | operator
    Column("channel_status", Text),  # the platform's own last status, e.g. WAIT_SELLER_AGREE
    Column("currency", Text, nullable=False),
    Column("refund_cents", BigInteger, nullable=False),
    Column("goods_refund_cents", BigInteger, nullable=False),
    Column("freight_refund_cents", BigInteger, nullable=False),
    Column("money_done", Boolean, nullable=False),  # refund-approved / compensation-granted emitted
    Column("node_code", Text),  # where the goods come back (the node that shipped them)
    Column("outbound_order_id", Text),  # the reship's / exchange's new order
    Column("reason", Text, nullable=False),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    UniqueConstraint("channel", "channel_refund_id", name="aftersales_cases_refund_uq"),
    Index("aftersales_cases_by_order", "order_id"),
    Index("aftersales_cases_by_created", "created_at", "case_id"),
)

aftersales_lines = Table(
    "aftersales_lines",
    metadata,
    Column("case_id", Text, ForeignKey("aftersales_cases.case_id", ondelete="CASCADE"), nullable=False),
    Column("line_id", Text, nullable=False),  # the order's material line
    Column("channel_line_id", Text, nullable=False),
    Column("material_code", Text, nullable=False),
    Column("qty", Integer, nullable=False),
    Column("refund_cents", BigInteger, nullable=False),
    Column("good_qty", Integer, nullable=False, server_default=text("0")),
    Column("defective_qty", Integer, nullable=False, server_default=text("0")),
    PrimaryKeyConstraint("case_id", "line_id"),
)

aftersales_history = Table(
    "aftersales_history",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("case_id", Text, ForeignKey("aftersales_cases.case_id", ondelete="CASCADE"), nullable=False),
    Column("from_state", Text),
    Column("to_state", Text, nullable=False),
    Column("platform_status", Text),  # the normalised refund status that moved it (NULL: an operator)
    Column("channel_status", Text),
    Column("source", Text, nullable=False),  # channel | api
    Column("note", Text, nullable=False),
    Column("cause_event_id", UUID(as_uuid=True)),
    Column("at", TS, nullable=False),
    Index("aftersales_history_by_case", "case_id", "id"),
    Index(
        "aftersales_history_status_uq",
        "case_id",
        "platform_status",
        unique=True,
        postgresql_where=text("platform_status IS NOT NULL"),
    ),
)
