"""Tables of physical stock beyond the good stock row (issue #8 layers 1-2), on the inventory's metadata.

`stock.on_hand` stays the GOOD stock (what can be sold). Stock that is not good (defective 次品, quarantined
待检/隔离) is kept per (node, material, state) in `quality_stock`; stock shipped from one node to another and
not yet received is kept per (target node, material) in `in_transit`. Neither changes the stock row's shape
or its statements. Quality moves, counts and transfers are their own records (idempotent per id); the
ledger (`movements`) gets a row whenever the good stock changes.
"""

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
from sqlalchemy.dialects.postgresql import JSONB

from .tables import metadata

quality_stock = Table(
    "quality_stock",
    metadata,
    Column("node_code", String(64), nullable=False),
    Column("material_code", String(64), nullable=False),
    Column("state", String(16), nullable=False),
    Column("qty", BigInteger, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("node_code", "material_code", "state", name="quality_stock_pkey"),
    CheckConstraint("state IN ('defective', 'quarantined')", name="quality_stock_state"),
    CheckConstraint("qty >= 0", name="quality_stock_qty_not_negative"),
)

quality_moves = Table(
    "quality_moves",
    metadata,
    Column("move_id", Text, primary_key=True),
    Column("node_code", String(64), nullable=False),
    Column("material_code", String(64), nullable=False),
    Column("qty", BigInteger, nullable=False),
    Column("from_state", String(16), nullable=False),
    Column("to_state", String(16), nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("qty > 0", name="quality_moves_qty_positive"),
    CheckConstraint("from_state IN ('good', 'defective', 'quarantined')", name="quality_moves_from"),
    CheckConstraint("to_state IN ('good', 'defective', 'quarantined')", name="quality_moves_to"),
    CheckConstraint("from_state <> to_state", name="quality_moves_distinct"),
    Index("quality_moves_stock", "node_code", "material_code"),
)

# A cycle count 盘点: each line is (material, state, expected, counted, variance), recorded as counted.
counts = Table(
    "counts",
    metadata,
    Column("count_id", Text, primary_key=True),
    Column("node_code", String(64), nullable=False),
    Column("lines", JSONB, nullable=False),
    Column("note", Text, nullable=False, server_default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("counts_node", "node_code", "created_at"),
)

# A transfer order 调拨: created -> shipped (out of the source, into in-transit) -> received (into the target;
# a short receipt is a loss), or created -> cancelled. Lines: (material, qty, received, lost).
transfers = Table(
    "transfers",
    metadata,
    Column("transfer_id", Text, primary_key=True),
    Column("source_node", String(64), nullable=False),
    Column("target_node", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("lines", JSONB, nullable=False),
    Column("note", Text, nullable=False, server_default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("shipped_at", DateTime(timezone=True), nullable=True),
    Column("received_at", DateTime(timezone=True), nullable=True),
    Column("cancelled_at", DateTime(timezone=True), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("source_node <> target_node", name="transfers_distinct_nodes"),
    CheckConstraint("status IN ('created', 'shipped', 'received', 'cancelled')", name="transfers_status"),
    Index("transfers_source", "source_node", "created_at"),
    Index("transfers_target", "target_node", "created_at"),
)

in_transit = Table(
    "in_transit",
    metadata,
    Column("node_code", String(64), nullable=False),
    Column("material_code", String(64), nullable=False),
    Column("qty", BigInteger, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("node_code", "material_code", name="in_transit_pkey"),
    CheckConstraint("qty >= 0", name="in_transit_qty_not_negative"),
)
