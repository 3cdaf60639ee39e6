"""The partial intercepts' table (migration inventory0010, on the inventory's metadata): one row per (case,
reservation, order line) of a `fulfillment.lines-intercepted` that inventory applied (see
service/intercepts.py). `qty` is what the event said was held back; `released` is what the reservation gave
back (0 when it no longer held the units: released by a cancellation, or consumed). It is what makes a
repeat change nothing."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from .tables import metadata

intercept_lines = Table(
    "intercept_lines",
    metadata,
    Column("case_id", Text, nullable=False),
    Column("reservation_id", Text, nullable=False),
    Column("line_id", Text, nullable=False),
    Column("order_id", Text, nullable=False),
    Column("node_code", String(64), nullable=False),
    Column("material_code", String(64), nullable=False),
    Column("qty", BigInteger, nullable=False),
    Column("released", BigInteger, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("case_id", "reservation_id", "line_id", name="intercept_lines_pk"),
    CheckConstraint("qty > 0 AND released >= 0 AND released <= qty", name="intercept_lines_qty"),
)
