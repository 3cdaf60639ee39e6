"""The order pull's table (migration channel0006): one row per (channel, shop), the sync's durable state."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, Integer, PrimaryKeyConstraint, Table, Text, text

from .tables import metadata

pull_cursors = Table(
    "pull_cursors",
    metadata,
    Column("channel", Text, nullable=False),
    Column("shop_id", Text, nullable=False),
    Column("cursor", DateTime(timezone=True), nullable=True),  # every order modified before it is fetched
    Column("window_start", DateTime(timezone=True), nullable=True),  # the window being fetched, if any
    Column("window_end", DateTime(timezone=True), nullable=True),
    Column("page", Integer, nullable=False, server_default=text("1")),  # its next page
    Column("fetched", BigInteger, nullable=False, server_default=text("0")),  # orders fetched, all time
    Column("published", BigInteger, nullable=False, server_default=text("0")),  # new payloads recorded
    Column("refused", BigInteger, nullable=False, server_default=text("0")),  # invalid orders, recorded
    Column("failures", Integer, nullable=False, server_default=text("0")),  # consecutive failed calls
    Column("last_error", Text, nullable=True),
    Column("last_run_at", DateTime(timezone=True), nullable=True),
    Column("last_success_at", DateTime(timezone=True), nullable=True),
    Column("next_run_at", DateTime(timezone=True), nullable=True),  # the timer's due time, as last set
    PrimaryKeyConstraint("channel", "shop_id", name="pull_cursors_pk"),
)
