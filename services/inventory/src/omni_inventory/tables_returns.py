"""The after-sales returns' table (migration inventory0009, on the inventory's metadata): one row per (case,
line) of an `order.return-received` that inventory applied at its node: `good_qty` back into good stock,
`defective_qty` into defective stock (see service/returns.py). It is what makes a repeat change nothing, and
the record of the defective units a return brought in (they never passed through good stock)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    Index,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from .tables import metadata

return_lines = Table(
    "return_lines",
    metadata,
    Column("case_id", Text, nullable=False),
    Column("line_id", Text, nullable=False),
    Column("order_id", Text, nullable=False),
    Column("kind", String(32), nullable=False),  # the case's kind: return_and_refund, exchange, ...
    Column("node_code", String(64), nullable=False),
    Column("material_code", String(64), nullable=False),
    Column("good_qty", BigInteger, nullable=False),
    Column("defective_qty", BigInteger, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),  # when the order service inspected it
    Column("at", DateTime(timezone=True), nullable=False),  # when inventory applied it
    PrimaryKeyConstraint("case_id", "line_id", name="return_lines_pk"),
    CheckConstraint("good_qty >= 0 AND defective_qty >= 0", name="return_lines_qty"),
    Index("return_lines_stock", "node_code", "material_code", "at"),
)
