"""The inventory's tables (its own metadata; migrations create exactly these).

Every change to a stock row is ONE conditional statement in `store.Repository`; the CHECK constraints here
are the last line of defence (the database refuses an oversell even if the code did not).
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
from sqlalchemy.orm import registry
from sqlmodel import SQLModel


class Base(SQLModel, registry=registry()):
    """This service's own metadata (never SQLModel's global one: services share a test process)."""


metadata = Base.metadata

MOVEMENTS = ("receipt", "adjustment", "reservation", "release", "shipment")

stock = Table(
    "stock",
    metadata,
    Column("node_code", String(64), nullable=False),
    Column("material_code", String(64), nullable=False),
    Column("on_hand", BigInteger, nullable=False),
    Column("reserved", BigInteger, nullable=False, server_default="0"),
    Column("frozen", BigInteger, nullable=False, server_default="0"),
    Column("seq", BigInteger, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("node_code", "material_code", name="stock_pkey"),
    CheckConstraint("on_hand >= 0", name="stock_on_hand_not_negative"),
    CheckConstraint("reserved >= 0", name="stock_reserved_not_negative"),
    CheckConstraint("frozen >= 0", name="stock_frozen_not_negative"),
    CheckConstraint("reserved + frozen <= on_hand", name="stock_no_oversell"),
    Index("stock_material", "material_code"),
)

movements = Table(
    "movements",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("node_code", String(64), nullable=False),
    Column("material_code", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("delta_on_hand", BigInteger, nullable=False),
    Column("delta_reserved", BigInteger, nullable=False),
    Column("on_hand_after", BigInteger, nullable=False),
    Column("reserved_after", BigInteger, nullable=False),
    Column("frozen_after", BigInteger, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("reference", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    CheckConstraint(
        "kind IN ('receipt', 'adjustment', 'reservation', 'release', 'shipment', 'freeze', 'unfreeze', "
        "'quality', 'count', 'transfer-out', 'transfer-in', 'transfer-loss', 'store-sale', 'store-return', "
        "'return-restock')",
        name="movements_kind",
    ),
    Index("movements_stock", "node_code", "material_code", "id"),
    Index("movements_reference", "reference"),
)

reservations = Table(
    "reservations",
    metadata,
    Column("reservation_id", Text, primary_key=True),
    Column("order_id", Text, nullable=False),
    Column("node_code", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("lines", JSONB, nullable=False),
    Column("shortfall", JSONB, nullable=True),
    Column("reason", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # an unpaid own-mall reservation's time-to-live (service/holds.py); cleared when payment confirms it
    Column("expires_at", DateTime(timezone=True), nullable=True),
    Column("confirmed_at", DateTime(timezone=True), nullable=True),
    CheckConstraint("status IN ('reserved', 'refused', 'released', 'consumed')", name="reservations_status"),
    Index("reservations_order", "order_id"),
)

# Orders cancelled: a reservation request that arrives for one afterwards (it was in flight) is refused, so
# no stock stays held for an order that no longer exists.
cancelled_orders = Table(
    "cancelled_orders",
    metadata,
    Column("order_id", Text, primary_key=True),
    Column("cancelled_at", DateTime(timezone=True), nullable=False),
)

receipts = Table(
    "receipts",
    metadata,
    Column("receipt_id", Text, primary_key=True),
    Column("node_code", String(64), nullable=False),
    Column("lines", JSONB, nullable=False),
    Column("note", Text, nullable=False, server_default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

adjustments = Table(
    "adjustments",
    metadata,
    Column("adjustment_id", Text, primary_key=True),
    Column("node_code", String(64), nullable=False),
    Column("material_code", String(64), nullable=False),
    Column("delta", BigInteger, nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("delta <> 0", name="adjustments_delta_not_zero"),
)

# Stock held back by an operator (a quality hold, a dispute, a count in progress): it stays on hand and is not
# available. One row per freeze; releasing it sets released_at (all of it comes back).
freezes = Table(
    "freezes",
    metadata,
    Column("freeze_id", Text, primary_key=True),
    Column("node_code", String(64), nullable=False),
    Column("material_code", String(64), nullable=False),
    Column("qty", BigInteger, nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("released_at", DateTime(timezone=True), nullable=True),
    Column("release_reason", Text, nullable=True),
    CheckConstraint("qty > 0", name="freezes_qty_positive"),
    Index("freezes_stock", "node_code", "material_code"),
)

# Allocation rules and the listing projection (issue #8 layers 3-4); quality states, cycle counts, transfers
# and in-transit (layers 1-2): their own modules, on this metadata.
from . import tables_listings, tables_physical  # noqa: E402, F401
