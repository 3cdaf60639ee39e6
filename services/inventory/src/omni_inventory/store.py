"""Tables and repository functions. The only place that knows SQL.

Every change to a stock row is ONE conditional statement that also bumps `seq` and returns the new row:
nothing reads a level and then writes it back. Multi-row changes go in material order (see
`domain.normalize_lines`) and a batch first locks every row it will touch in one sorted statement
(`lock_stock`), so concurrent transactions cannot deadlock on stock rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

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
    func,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import registry
from sqlmodel import SQLModel

from .domain.model import Line, ReservationStatus, ShortLine, StockLevel


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
        "kind IN ('receipt', 'adjustment', 'reservation', 'release', 'shipment')", name="movements_kind"
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


# -- stock ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StockRow:
    node_code: str
    material_code: str
    on_hand: int
    reserved: int
    frozen: int
    seq: int
    updated_at: datetime

    @property
    def level(self) -> StockLevel:
        return StockLevel(self.on_hand, self.reserved, self.frozen)

    @property
    def available(self) -> int:
        return self.level.available


_STOCK_COLS = "node_code, material_code, on_hand, reserved, frozen, seq, updated_at"


def _stock(row: Any) -> StockRow:
    return StockRow(
        row.node_code, row.material_code, row.on_hand, row.reserved, row.frozen, row.seq, row.updated_at
    )


_LOCK = text(
    "SELECT 1 FROM stock WHERE (node_code, material_code) IN "
    "(SELECT n, m FROM unnest(CAST(:nodes AS text[]), CAST(:mats AS text[])) AS x(n, m)) "
    'ORDER BY node_code COLLATE "C", material_code COLLATE "C" FOR UPDATE'
)


async def lock_stock(session: AsyncSession, pairs: set[tuple[str, str]]) -> None:
    """Lock the rows a batch will change, in one global order (code point order, as Python sorts)."""
    if len(pairs) < 2:
        return
    ordered = sorted(pairs)
    await session.execute(_LOCK, {"nodes": [p[0] for p in ordered], "mats": [p[1] for p in ordered]})


_RESERVE = text(
    "UPDATE stock SET reserved = reserved + :n, seq = seq + 1, updated_at = :at "
    "WHERE node_code = :node AND material_code = :m AND on_hand - reserved - frozen >= :n "
    f"RETURNING {_STOCK_COLS}"
)


async def try_reserve(
    session: AsyncSession, node: str, material: str, qty: int, at: datetime
) -> StockRow | None:
    """Reserve `qty` when that many are available, in one statement. None: not enough (or unknown row)."""
    row = (await session.execute(_RESERVE, {"n": qty, "node": node, "m": material, "at": at})).first()
    return _stock(row) if row else None


_TAKE_RESERVED = text(
    "UPDATE stock SET reserved = reserved - :n, on_hand = on_hand - :shipped, seq = seq + 1, "
    "updated_at = :at "
    "WHERE node_code = :node AND material_code = :m AND reserved >= :n "
    f"RETURNING {_STOCK_COLS}"
)


async def take_reserved(
    session: AsyncSession, node: str, material: str, qty: int, *, ship: bool, at: datetime
) -> StockRow | None:
    """Release (`ship=False`) or ship (`ship=True`: on hand goes down too) `qty` reserved units."""
    params = {"n": qty, "shipped": qty if ship else 0, "node": node, "m": material, "at": at}
    row = (await session.execute(_TAKE_RESERVED, params)).first()
    return _stock(row) if row else None


async def receive(session: AsyncSession, node: str, lines: Sequence[Line], at: datetime) -> list[StockRow]:
    """Add received quantities, creating rows as needed: one statement, rows in the lines' order."""
    stmt = insert(stock).values(
        [
            {
                "node_code": node,
                "material_code": x.material_code,
                "on_hand": x.qty,
                "reserved": 0,
                "frozen": 0,
                "seq": 1,
                "updated_at": at,
            }
            for x in lines
        ]
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[stock.c.node_code, stock.c.material_code],
        set_={"on_hand": stock.c.on_hand + stmt.excluded.on_hand, "seq": stock.c.seq + 1, "updated_at": at},
    ).returning(*stock.c)
    rows = [_stock(r) for r in await session.execute(stmt)]
    return sorted(rows, key=lambda r: r.material_code)


_ADJUST = text(
    "UPDATE stock SET on_hand = on_hand + :d, seq = seq + 1, updated_at = :at "
    "WHERE node_code = :node AND material_code = :m AND on_hand + :d >= reserved + frozen "
    f"RETURNING {_STOCK_COLS}"
)


async def adjust(
    session: AsyncSession, node: str, material: str, delta: int, at: datetime
) -> StockRow | None:
    """Change on hand by `delta` unless it would fall below reserved + frozen (None then, or unknown row)."""
    if delta > 0:
        return (await receive(session, node, [Line(material, delta)], at))[0]
    row = (await session.execute(_ADJUST, {"d": delta, "node": node, "m": material, "at": at})).first()
    return _stock(row) if row else None


async def get_stock(session: AsyncSession, node: str, material: str) -> StockRow | None:
    row = (
        await session.execute(
            select(stock).where(stock.c.node_code == node, stock.c.material_code == material)
        )
    ).first()
    return _stock(row) if row else None


async def available_of(session: AsyncSession, node: str, materials: Sequence[str]) -> dict[str, int]:
    rows = await session.execute(
        select(stock.c.material_code, stock.c.on_hand - stock.c.reserved - stock.c.frozen).where(
            stock.c.node_code == node, stock.c.material_code.in_(list(materials))
        )
    )
    return {m: a for m, a in rows}


async def list_stock(
    session: AsyncSession, *, node: str | None, material: str | None, limit: int, offset: int
) -> tuple[list[StockRow], int]:
    conds = []
    if node is not None:
        conds.append(stock.c.node_code == node)
    if material is not None:
        conds.append(stock.c.material_code == material)
    total = (await session.execute(select(func.count()).select_from(stock).where(*conds))).scalar_one()
    rows = await session.execute(
        select(stock)
        .where(*conds)
        .order_by(stock.c.node_code, stock.c.material_code)
        .limit(limit)
        .offset(offset)
    )
    return [_stock(r) for r in rows], total


# -- movements --------------------------------------------------------------------------------------------
def movement_row(row: StockRow, kind: str, reference: str, d_on_hand: int, d_reserved: int) -> dict[str, Any]:
    """The ledger row for one change, with the stock row's state after it."""
    assert kind in MOVEMENTS, kind
    return {
        "node_code": row.node_code,
        "material_code": row.material_code,
        "kind": kind,
        "delta_on_hand": d_on_hand,
        "delta_reserved": d_reserved,
        "on_hand_after": row.on_hand,
        "reserved_after": row.reserved,
        "frozen_after": row.frozen,
        "seq": row.seq,
        "reference": reference,
        "at": row.updated_at,
    }


async def add_movements(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        await session.execute(movements.insert(), list(rows))


async def list_movements(
    session: AsyncSession,
    *,
    node: str | None,
    material: str | None,
    reference: str | None,
    kind: str | None = None,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
    conds = []
    if kind is not None:
        conds.append(movements.c.kind == kind)
    if node is not None:
        conds.append(movements.c.node_code == node)
    if material is not None:
        conds.append(movements.c.material_code == material)
    if reference is not None:
        conds.append(movements.c.reference == reference)
    total = (await session.execute(select(func.count()).select_from(movements).where(*conds))).scalar_one()
    rows = await session.execute(
        select(movements).where(*conds).order_by(movements.c.id.desc()).limit(limit).offset(offset)
    )
    return [dict(r._mapping) for r in rows], total


# -- reservations -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReservationRow:
    reservation_id: str
    order_id: str
    node_code: str
    status: ReservationStatus
    lines: list[Line]
    shortfall: list[ShortLine] | None
    reason: str | None
    created_at: datetime
    updated_at: datetime


def _reservation(row: Any) -> ReservationRow:
    return ReservationRow(
        reservation_id=row.reservation_id,
        order_id=row.order_id,
        node_code=row.node_code,
        status=ReservationStatus(row.status),
        lines=[Line(x["material_code"], x["qty"]) for x in row.lines],
        shortfall=None if row.shortfall is None else [ShortLine(**x) for x in row.shortfall],
        reason=row.reason,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _lines_json(lines: Sequence[Line]) -> list[dict[str, Any]]:
    return [{"material_code": x.material_code, "qty": x.qty} for x in lines]


async def claim_reservation(
    session: AsyncSession, reservation_id: str, order_id: str, node: str, lines: Sequence[Line], at: datetime
) -> bool:
    """Insert the reservation as `reserved`; False when the id exists (a repeated request).

    A concurrent request with the same id waits on this row and then sees it: one of them wins.
    """
    stmt = (
        insert(reservations)
        .values(
            reservation_id=reservation_id,
            order_id=order_id,
            node_code=node,
            status=ReservationStatus.RESERVED.value,
            lines=_lines_json(lines),
            created_at=at,
            updated_at=at,
        )
        .on_conflict_do_nothing(index_elements=[reservations.c.reservation_id])
        .returning(reservations.c.reservation_id)
    )
    return (await session.execute(stmt)).first() is not None


async def mark_refused(
    session: AsyncSession, reservation_id: str, shortfall: Sequence[ShortLine], reason: str, at: datetime
) -> None:
    await session.execute(
        reservations.update()
        .where(reservations.c.reservation_id == reservation_id)
        .values(
            status=ReservationStatus.REFUSED.value,
            shortfall=[
                {"material_code": s.material_code, "requested": s.requested, "available": s.available}
                for s in shortfall
            ],
            reason=reason,
            updated_at=at,
        )
    )


async def move_reservation(
    session: AsyncSession, reservation_id: str, to: ReservationStatus, at: datetime
) -> ReservationRow | None:
    """reserved -> `to` in one conditional statement; None when it is not (or no longer) reserved."""
    row = (
        await session.execute(
            reservations.update()
            .where(
                reservations.c.reservation_id == reservation_id,
                reservations.c.status == ReservationStatus.RESERVED.value,
            )
            .values(status=to.value, updated_at=at)
            .returning(*reservations.c)
        )
    ).first()
    return _reservation(row) if row else None


async def release_order(session: AsyncSession, order_id: str, at: datetime) -> list[ReservationRow]:
    """Every still-reserved reservation of the order -> released; returns them (by id)."""
    rows = await session.execute(
        reservations.update()
        .where(reservations.c.order_id == order_id, reservations.c.status == ReservationStatus.RESERVED.value)
        .values(status=ReservationStatus.RELEASED.value, updated_at=at)
        .returning(*reservations.c)
    )
    return sorted((_reservation(r) for r in rows), key=lambda r: r.reservation_id)


async def held_lines_of_orders(session: AsyncSession, order_ids: Sequence[str]) -> set[tuple[str, str]]:
    """(node, material) of every still-reserved line of these orders (to lock them up front)."""
    if not order_ids:
        return set()
    rows = await session.execute(
        select(reservations.c.node_code, reservations.c.lines).where(
            reservations.c.order_id.in_(list(order_ids)),
            reservations.c.status == ReservationStatus.RESERVED.value,
        )
    )
    return {(node, x["material_code"]) for node, lines in rows for x in lines}


async def get_reservation(session: AsyncSession, reservation_id: str) -> ReservationRow | None:
    row = (
        await session.execute(select(reservations).where(reservations.c.reservation_id == reservation_id))
    ).first()
    return _reservation(row) if row else None


async def list_reservations(
    session: AsyncSession,
    *,
    order_id: str | None,
    node: str | None,
    status: ReservationStatus | None,
    limit: int,
    offset: int,
) -> tuple[list[ReservationRow], int]:
    conds = []
    if order_id is not None:
        conds.append(reservations.c.order_id == order_id)
    if node is not None:
        conds.append(reservations.c.node_code == node)
    if status is not None:
        conds.append(reservations.c.status == status.value)
    total = (await session.execute(select(func.count()).select_from(reservations).where(*conds))).scalar_one()
    rows = await session.execute(
        select(reservations)
        .where(*conds)
        .order_by(reservations.c.created_at.desc(), reservations.c.reservation_id)
        .limit(limit)
        .offset(offset)
    )
    return [_reservation(r) for r in rows], total


# -- receipts and adjustments (idempotency records) -------------------------------------------------------
@dataclass(frozen=True)
class ReceiptRow:
    receipt_id: str
    node_code: str
    lines: list[Line]
    note: str
    created_at: datetime


async def claim_receipt(
    session: AsyncSession, receipt_id: str, node: str, lines: Sequence[Line], note: str, at: datetime
) -> bool:
    stmt = (
        insert(receipts)
        .values(receipt_id=receipt_id, node_code=node, lines=_lines_json(lines), note=note, created_at=at)
        .on_conflict_do_nothing(index_elements=[receipts.c.receipt_id])
        .returning(receipts.c.receipt_id)
    )
    return (await session.execute(stmt)).first() is not None


async def get_receipt(session: AsyncSession, receipt_id: str) -> ReceiptRow | None:
    row = (await session.execute(select(receipts).where(receipts.c.receipt_id == receipt_id))).first()
    if row is None:
        return None
    lines = [Line(x["material_code"], x["qty"]) for x in row.lines]
    return ReceiptRow(row.receipt_id, row.node_code, lines, row.note, row.created_at)


@dataclass(frozen=True)
class AdjustmentRow:
    adjustment_id: str
    node_code: str
    material_code: str
    delta: int
    reason: str
    created_at: datetime


async def claim_adjustment(
    session: AsyncSession, adjustment_id: str, node: str, material: str, delta: int, reason: str, at: datetime
) -> bool:
    stmt = (
        insert(adjustments)
        .values(
            adjustment_id=adjustment_id,
            node_code=node,
            material_code=material,
            delta=delta,
            reason=reason,
            created_at=at,
        )
        .on_conflict_do_nothing(index_elements=[adjustments.c.adjustment_id])
        .returning(adjustments.c.adjustment_id)
    )
    return (await session.execute(stmt)).first() is not None


async def get_adjustment(session: AsyncSession, adjustment_id: str) -> AdjustmentRow | None:
    row = (
        await session.execute(select(adjustments).where(adjustments.c.adjustment_id == adjustment_id))
    ).first()
    if row is None:
        return None
    return AdjustmentRow(
        row.adjustment_id, row.node_code, row.material_code, row.delta, row.reason, row.created_at
    )


async def mark_cancelled(session: AsyncSession, order_id: str, at: datetime) -> None:
    await session.execute(
        insert(cancelled_orders).values(order_id=order_id, cancelled_at=at).on_conflict_do_nothing()
    )


async def is_cancelled(session: AsyncSession, order_id: str) -> bool:
    found = await session.execute(
        select(cancelled_orders.c.order_id).where(cancelled_orders.c.order_id == order_id)
    )
    return found.first() is not None
