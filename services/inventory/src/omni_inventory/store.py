"""The repository: the only place that knows SQL. `Repository(session)` is bound to one unit of work.

Every change to a stock row is ONE conditional statement that also bumps `seq` and returns the new row:
nothing reads a level and then writes it back. Multi-row changes go in material order (see
`domain.normalize_lines`) and a batch first locks every row it will touch in one sorted statement
(`lock_stock`), so concurrent transactions cannot deadlock on stock rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from omni_chassis.sqlpage import page_of

from .domain.model import Line, ReservationStatus, ShortLine
from .records import (
    MOVEMENTS,
    AdjustmentRow,
    ReceiptRow,
    ReservationRow,
    StockRow,
    lines_json,
    movement_row,
)
from .records import reservation_of as _reservation
from .store_freezes import FreezeQueries
from .store_holds import HoldQueries
from .store_intercepts import InterceptQueries
from .store_listings import ListingQueries
from .store_pos import StoreSaleQueries
from .store_quality import QualityQueries
from .store_returns import ReturnQueries
from .store_transfers import TransferQueries
from .tables import Base, adjustments, cancelled_orders, metadata, movements, receipts, reservations, stock

__all__ = [
    "MOVEMENTS",
    "AdjustmentRow",
    "Base",
    "ReceiptRow",
    "Repository",
    "ReservationRow",
    "StockRow",
    "metadata",
    "movement_row",
]

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

_RESERVE = text(
    "UPDATE stock SET reserved = reserved + :n, seq = seq + 1, updated_at = :at "
    "WHERE node_code = :node AND material_code = :m AND on_hand - reserved - frozen >= :n "
    f"RETURNING {_STOCK_COLS}"
)

_ROWS_FOR_UPDATE = text(
    f"SELECT {_STOCK_COLS} FROM stock WHERE (node_code, material_code) IN "
    "(SELECT n, m FROM unnest(CAST(:nodes AS text[]), CAST(:mats AS text[])) AS x(n, m)) "
    'ORDER BY node_code COLLATE "C", material_code COLLATE "C" FOR UPDATE'
)
# The batch's sum per row, still conditional (available >= the sum) and checked against the seq it expects.
_RESERVE_SUMMED = text(
    "UPDATE stock s SET reserved = s.reserved + x.q, seq = s.seq + x.k, updated_at = :at "
    "FROM unnest(CAST(:nodes AS text[]), CAST(:mats AS text[]), CAST(:qtys AS bigint[]), "
    "CAST(:counts AS bigint[]), CAST(:seqs AS bigint[])) AS x(n, m, q, k, e) "
    "WHERE s.node_code = x.n AND s.material_code = x.m AND s.on_hand - s.reserved - s.frozen >= x.q "
    "AND s.seq + x.k = x.e"
)

_TAKE_RESERVED = text(
    "UPDATE stock SET reserved = reserved - :n, on_hand = on_hand - :shipped, seq = seq + 1, "
    "updated_at = :at "
    "WHERE node_code = :node AND material_code = :m AND reserved >= :n "
    f"RETURNING {_STOCK_COLS}"
)

_ADJUST = text(
    "UPDATE stock SET on_hand = on_hand + :d, seq = seq + 1, updated_at = :at "
    "WHERE node_code = :node AND material_code = :m AND on_hand + :d >= reserved + frozen "
    f"RETURNING {_STOCK_COLS}"
)


class Repository(
    FreezeQueries,
    ListingQueries,
    QualityQueries,
    TransferQueries,
    HoldQueries,
    StoreSaleQueries,
    ReturnQueries,
    InterceptQueries,
):
    """The inventory's SQL, bound to a unit of work's session (freezes: store_freezes.py; rules and
    listings: store_listings.py; quality states and counts: store_quality.py; transfers and in-transit:
    store_transfers.py; store sales: store_pos.py; after-sales returns: store_returns.py; partial
    intercepts: store_intercepts.py)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # -- stock --------------------------------------------------------------------------------------------

    async def lock_stock(self, pairs: set[tuple[str, str]]) -> None:
        """Lock the rows a batch will change, in one global order (code point order, as Python sorts)."""
        if len(pairs) < 2:
            return
        ordered = sorted(pairs)
        await self.session.execute(_LOCK, {"nodes": [p[0] for p in ordered], "mats": [p[1] for p in ordered]})

    async def try_reserve(self, node: str, material: str, qty: int, at: datetime) -> StockRow | None:
        """Reserve `qty` when that many are available, in one statement. None: not enough (or unknown row)."""
        row = (
            await self.session.execute(_RESERVE, {"n": qty, "node": node, "m": material, "at": at})
        ).first()
        return _stock(row) if row else None

    async def reserve_all(self, node: str, lines: Sequence[Line], at: datetime) -> list[StockRow] | None:
        """Every line or none: one conditional UPDATE per line (`try_reserve`), in the lines' (material)
        order, inside a savepoint; None, and nothing reserved, at the first line that is short. A single line
        needs no savepoint: its one statement either reserved or did nothing."""
        if len(lines) == 1:
            row = await self.try_reserve(node, lines[0].material_code, lines[0].qty, at)
            return None if row is None else [row]
        savepoint = await self.session.begin_nested()
        try:
            rows = []
            for line in lines:
                row = await self.try_reserve(node, line.material_code, line.qty, at)
                if row is None:
                    await savepoint.rollback()
                    return None
                rows.append(row)
        except BaseException:
            await savepoint.rollback()
            raise
        await savepoint.commit()
        return rows

    async def stock_for_update(self, pairs: set[tuple[str, str]]) -> dict[tuple[str, str], StockRow]:
        """The stock rows of `pairs`, locked (in the global lock order); a pair with no row is absent."""
        if not pairs:
            return {}
        ordered = sorted(pairs)
        rows = await self.session.execute(
            _ROWS_FOR_UPDATE, {"nodes": [p[0] for p in ordered], "mats": [p[1] for p in ordered]}
        )
        return {(r.node_code, r.material_code): _stock(r) for r in rows}

    async def reserve_summed(
        self, totals: dict[tuple[str, str], tuple[int, int]], at: datetime, *, expected: dict[Any, int]
    ) -> int:
        """Reserve each row's summed quantity in one statement (`totals`: (node, material) -> (qty, how
        many reservations)); `expected` is each row's seq after them. Returns how many rows were updated."""
        keys = sorted(totals)
        result = await self.session.execute(
            _RESERVE_SUMMED,
            {
                "nodes": [k[0] for k in keys],
                "mats": [k[1] for k in keys],
                "qtys": [totals[k][0] for k in keys],
                "counts": [totals[k][1] for k in keys],
                "seqs": [expected[k] for k in keys],
                "at": at,
            },
        )
        return result.rowcount  # type: ignore[attr-defined]

    async def take_reserved(
        self, node: str, material: str, qty: int, *, ship: bool, at: datetime
    ) -> StockRow | None:
        """Release (`ship=False`) or ship (`ship=True`: on hand goes down too) `qty` reserved units."""
        params = {"n": qty, "shipped": qty if ship else 0, "node": node, "m": material, "at": at}
        row = (await self.session.execute(_TAKE_RESERVED, params)).first()
        return _stock(row) if row else None

    async def receive(self, node: str, lines: Sequence[Line], at: datetime) -> list[StockRow]:
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
            set_={
                "on_hand": stock.c.on_hand + stmt.excluded.on_hand,
                "seq": stock.c.seq + 1,
                "updated_at": at,
            },
        ).returning(*stock.c)
        rows = [_stock(r) for r in await self.session.execute(stmt)]
        return sorted(rows, key=lambda r: r.material_code)

    async def adjust(self, node: str, material: str, delta: int, at: datetime) -> StockRow | None:
        """Change on hand by `delta` unless it falls below reserved + frozen (None then, or unknown row)."""
        if delta > 0:
            return (await self.receive(node, [Line(material, delta)], at))[0]
        row = (
            await self.session.execute(_ADJUST, {"d": delta, "node": node, "m": material, "at": at})
        ).first()
        return _stock(row) if row else None

    async def get_stock(self, node: str, material: str) -> StockRow | None:
        row = (
            await self.session.execute(
                select(stock).where(stock.c.node_code == node, stock.c.material_code == material)
            )
        ).first()
        return _stock(row) if row else None

    async def available_of(self, node: str, materials: Sequence[str]) -> dict[str, int]:
        rows = await self.session.execute(
            select(stock.c.material_code, stock.c.on_hand - stock.c.reserved - stock.c.frozen).where(
                stock.c.node_code == node, stock.c.material_code.in_(list(materials))
            )
        )
        return {m: a for m, a in rows}

    async def list_stock(
        self, *, node: str | None, material: str | None, limit: int, offset: int
    ) -> tuple[list[StockRow], int]:
        conds = []
        if node is not None:
            conds.append(stock.c.node_code == node)
        if material is not None:
            conds.append(stock.c.material_code == material)
        rows, total = await page_of(
            self.session, stock, conds, [stock.c.node_code, stock.c.material_code], limit=limit, offset=offset
        )
        return [_stock(r) for r in rows], total

    # -- movements ----------------------------------------------------------------------------------------

    async def add_movements(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            await self.session.execute(movements.insert(), list(rows))

    async def list_movements(
        self,
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
        rows, total = await page_of(
            self.session, movements, conds, [movements.c.id.desc()], limit=limit, offset=offset
        )
        return [dict(r._mapping) for r in rows], total

    # -- reservations -------------------------------------------------------------------------------------

    async def claim_reservation(
        self, reservation_id: str, order_id: str, node: str, lines: Sequence[Line], at: datetime
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
                lines=lines_json(lines),
                created_at=at,
                updated_at=at,
            )
            .on_conflict_do_nothing(index_elements=[reservations.c.reservation_id])
            .returning(reservations.c.reservation_id)
        )
        return (await self.session.execute(stmt)).first() is not None

    async def claim_reservations(
        self, items: Sequence[tuple[str, str, str, Sequence[Line]]], at: datetime
    ) -> set[str]:
        """Insert many reservations as `reserved` (id, order, node, lines); returns the ids that were new."""
        rows = [
            {
                "reservation_id": rid,
                "order_id": order_id,
                "node_code": node,
                "status": ReservationStatus.RESERVED.value,
                "lines": lines_json(lines),
                "created_at": at,
                "updated_at": at,
            }
            for rid, order_id, node, lines in items
        ]
        stmt = (
            insert(reservations)
            .values(rows)
            .on_conflict_do_nothing(index_elements=[reservations.c.reservation_id])
            .returning(reservations.c.reservation_id)
        )
        return set((await self.session.execute(stmt)).scalars())

    async def cancelled_among(self, order_ids: set[str]) -> set[str]:
        if not order_ids:
            return set()
        found = await self.session.execute(
            select(cancelled_orders.c.order_id).where(cancelled_orders.c.order_id.in_(sorted(order_ids)))
        )
        return set(found.scalars())

    async def mark_refused(
        self, reservation_id: str, shortfall: Sequence[ShortLine], reason: str, at: datetime
    ) -> None:
        await self.session.execute(
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
        self, reservation_id: str, to: ReservationStatus, at: datetime
    ) -> ReservationRow | None:
        """reserved -> `to` in one conditional statement; None when it is not (or no longer) reserved."""
        row = (
            await self.session.execute(
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

    async def release_order(self, order_id: str, at: datetime) -> list[ReservationRow]:
        """Every still-reserved reservation of the order -> released; returns them (by id)."""
        rows = await self.session.execute(
            reservations.update()
            .where(
                reservations.c.order_id == order_id, reservations.c.status == ReservationStatus.RESERVED.value
            )
            .values(status=ReservationStatus.RELEASED.value, updated_at=at)
            .returning(*reservations.c)
        )
        return sorted((_reservation(r) for r in rows), key=lambda r: r.reservation_id)

    async def held_lines_of_orders(self, order_ids: Sequence[str]) -> set[tuple[str, str]]:
        """(node, material) of every still-reserved line of these orders (to lock them up front)."""
        if not order_ids:
            return set()
        rows = await self.session.execute(
            select(reservations.c.node_code, reservations.c.lines).where(
                reservations.c.order_id.in_(list(order_ids)),
                reservations.c.status == ReservationStatus.RESERVED.value,
            )
        )
        return {(node, x["material_code"]) for node, lines in rows for x in lines}

    async def get_reservation(self, reservation_id: str) -> ReservationRow | None:
        row = (
            await self.session.execute(
                select(reservations).where(reservations.c.reservation_id == reservation_id)
            )
        ).first()
        return _reservation(row) if row else None

    async def list_reservations(
        self,
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
        rows, total = await page_of(
            self.session,
            reservations,
            conds,
            [reservations.c.created_at.desc(), reservations.c.reservation_id],
            limit=limit,
            offset=offset,
        )
        return [_reservation(r) for r in rows], total

    # -- receipts and adjustments (idempotency records) ---------------------------------------------------

    async def claim_receipt(
        self, receipt_id: str, node: str, lines: Sequence[Line], note: str, at: datetime
    ) -> bool:
        stmt = (
            insert(receipts)
            .values(receipt_id=receipt_id, node_code=node, lines=lines_json(lines), note=note, created_at=at)
            .on_conflict_do_nothing(index_elements=[receipts.c.receipt_id])
            .returning(receipts.c.receipt_id)
        )
        return (await self.session.execute(stmt)).first() is not None

    async def get_receipt(self, receipt_id: str) -> ReceiptRow | None:
        row = (
            await self.session.execute(select(receipts).where(receipts.c.receipt_id == receipt_id))
        ).first()
        if row is None:
            return None
        lines = [Line(x["material_code"], x["qty"]) for x in row.lines]
        return ReceiptRow(row.receipt_id, row.node_code, lines, row.note, row.created_at)

    async def claim_adjustment(
        self, adjustment_id: str, node: str, material: str, delta: int, reason: str, at: datetime
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
        return (await self.session.execute(stmt)).first() is not None

    async def get_adjustment(self, adjustment_id: str) -> AdjustmentRow | None:
        row = (
            await self.session.execute(
                select(adjustments).where(adjustments.c.adjustment_id == adjustment_id)
            )
        ).first()
        if row is None:
            return None
        return AdjustmentRow(
            row.adjustment_id, row.node_code, row.material_code, row.delta, row.reason, row.created_at
        )

    async def mark_cancelled(self, order_id: str, at: datetime) -> None:
        await self.session.execute(
            insert(cancelled_orders).values(order_id=order_id, cancelled_at=at).on_conflict_do_nothing()
        )

    async def is_cancelled(self, order_id: str) -> bool:
        found = await self.session.execute(
            select(cancelled_orders.c.order_id).where(cancelled_orders.c.order_id == order_id)
        )
        return found.first() is not None
