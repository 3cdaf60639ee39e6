"""The store sales' table (migration inventory0008, on the inventory's metadata): one row per (sale, line,
material) a store sale took out of a store's stock or a till return put back. `booked` is what the stock
could give: a sale of more than the store has available books what there is (see service/store_sales.py)."""

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
from sqlalchemy import text as sql_text

from .tables import metadata

store_sale_lines = Table(
    "store_sale_lines",
    metadata,
    Column("line_ref", Text, nullable=False),  # pos:<shop>:<uid>:<line id>:<material>
    Column("kind", String(16), nullable=False),
    Column("document", Text, nullable=False),  # pos:<shop>:<uid>, the ledger's reference
    Column("node_code", String(64), nullable=False),
    Column("material_code", String(64), nullable=False),
    Column("qty", BigInteger, nullable=False),
    Column("booked", BigInteger, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("line_ref", name="store_sale_lines_pk"),
    CheckConstraint("kind IN ('store-sale', 'store-return')", name="store_sale_lines_kind"),
    CheckConstraint("qty > 0 AND booked >= 0 AND booked <= qty", name="store_sale_lines_qty"),
    Index("store_sale_lines_short", "node_code", "at", postgresql_where=sql_text("booked < qty")),
)
