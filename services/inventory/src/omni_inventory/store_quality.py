"""SQL of quality states and cycle counts (part of the repository, see store.py).

Each change of a stock row or a quality row is ONE conditional statement returning the new row.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from omni_chassis.sqlpage import page_of

from .records import StockRow
from .records_physical import CountedLine, CountRow, QualityMoveRow, QualityQty, counted_json, counted_of
from .tables import reservations
from .tables_physical import counts, quality_moves, quality_stock

_COLS = "node_code, material_code, on_hand, reserved, frozen, seq, updated_at"
# Good stock out (to a non-good state, or shipped on a transfer): only what is available.
_TAKE_GOOD = text(
    "UPDATE stock SET on_hand = on_hand - :n, seq = seq + 1, updated_at = :at "
    "WHERE node_code = :node AND material_code = :m AND on_hand - reserved - frozen >= :n "
    f"RETURNING {_COLS}"
)
# A count sets on hand, never below what is held.
_SET_ON_HAND = text(
    "UPDATE stock SET on_hand = :c, seq = seq + 1, updated_at = :at "
    "WHERE node_code = :node AND material_code = :m AND :c >= reserved + frozen "
    f"RETURNING {_COLS}"
)
_TAKE_QUALITY = text(
    "UPDATE quality_stock SET qty = qty - :n, seq = seq + 1, updated_at = :at "
    "WHERE node_code = :node AND material_code = :m AND state = :s AND qty >= :n "
    "RETURNING node_code, material_code, state, qty, seq, updated_at"
)


def _stock_row(r: Any) -> StockRow:
    return StockRow(r.node_code, r.material_code, r.on_hand, r.reserved, r.frozen, r.seq, r.updated_at)


def _quality(r: Any) -> QualityQty:
    return QualityQty(r.node_code, r.material_code, r.state, r.qty, r.seq, r.updated_at)


def _move(r: Any) -> QualityMoveRow:
    return QualityMoveRow(
        r.move_id, r.node_code, r.material_code, r.qty, r.from_state, r.to_state, r.reason, r.created_at
    )


def _count(r: Any) -> CountRow:
    return CountRow(r.count_id, r.node_code, counted_of(r.lines), r.note, r.created_at)


class QualityQueries:
    session: AsyncSession

    # -- good stock ---------------------------------------------------------------------------------------
    async def take_good(self, node: str, material: str, qty: int, at: datetime) -> StockRow | None:
        """On hand down by `qty` when that many are available; None when not (or no stock row)."""
        row = (
            await self.session.execute(_TAKE_GOOD, {"n": qty, "node": node, "m": material, "at": at})
        ).first()
        return _stock_row(row) if row else None

    async def set_on_hand(self, node: str, material: str, counted: int, at: datetime) -> StockRow | None:
        """On hand := `counted` unless that is below reserved + frozen (None then, or no stock row)."""
        params = {"c": counted, "node": node, "m": material, "at": at}
        row = (await self.session.execute(_SET_ON_HAND, params)).first()
        return _stock_row(row) if row else None

    async def reservations_holding(self, node: str, material: str) -> list[str]:
        """Ids of the reservations still holding `material` at `node` (what a short count puts at risk)."""
        found = await self.session.execute(
            select(reservations.c.reservation_id)
            .where(
                reservations.c.node_code == node,
                reservations.c.status == "reserved",
                reservations.c.lines.contains([{"material_code": material}]),
            )
            .order_by(reservations.c.created_at, reservations.c.reservation_id)
            .limit(100)
        )
        return list(found.scalars())

    # -- non-good stock -----------------------------------------------------------------------------------
    async def add_quality(self, node: str, material: str, state: str, qty: int, at: datetime) -> QualityQty:
        stmt = insert(quality_stock).values(
            node_code=node, material_code=material, state=state, qty=qty, seq=1, updated_at=at
        )
        stmt = stmt.on_conflict_do_update(
            constraint="quality_stock_pkey",
            set_={
                "qty": quality_stock.c.qty + stmt.excluded.qty,
                "seq": quality_stock.c.seq + 1,
                "updated_at": at,
            },
        ).returning(*quality_stock.c)
        return _quality((await self.session.execute(stmt)).one())

    async def take_quality(
        self, node: str, material: str, state: str, qty: int, at: datetime
    ) -> QualityQty | None:
        params = {"n": qty, "node": node, "m": material, "s": state, "at": at}
        row = (await self.session.execute(_TAKE_QUALITY, params)).first()
        return _quality(row) if row else None

    async def set_quality(
        self, node: str, material: str, state: str, counted: int, at: datetime
    ) -> tuple[int, QualityQty]:
        """The state's quantity := `counted`; returns (what it was, the row after). Locks the row first."""
        before = await self.session.execute(
            select(quality_stock.c.qty)
            .where(
                quality_stock.c.node_code == node,
                quality_stock.c.material_code == material,
                quality_stock.c.state == state,
            )
            .with_for_update()
        )
        was = before.scalar_one_or_none() or 0
        stmt = insert(quality_stock).values(
            node_code=node, material_code=material, state=state, qty=counted, seq=1, updated_at=at
        )
        stmt = stmt.on_conflict_do_update(
            constraint="quality_stock_pkey",
            set_={"qty": counted, "seq": quality_stock.c.seq + 1, "updated_at": at},
        ).returning(*quality_stock.c)
        return was, _quality((await self.session.execute(stmt)).one())

    async def quality_of(self, node: str, material: str) -> dict[str, int]:
        rows = await self.session.execute(
            select(quality_stock.c.state, quality_stock.c.qty).where(
                quality_stock.c.node_code == node, quality_stock.c.material_code == material
            )
        )
        return {s: q for s, q in rows}

    async def quality_for_update(self, node: str, materials: Sequence[str]) -> dict[tuple[str, str], int]:
        """(material, state) -> qty of these materials at the node, locked (in the key order)."""
        rows = await self.session.execute(
            select(quality_stock.c.material_code, quality_stock.c.state, quality_stock.c.qty)
            .where(quality_stock.c.node_code == node, quality_stock.c.material_code.in_(list(materials)))
            .order_by(quality_stock.c.material_code, quality_stock.c.state)
            .with_for_update()
        )
        return {(m, s): q for m, s, q in rows}

    async def list_quality(
        self, *, node: str | None, material: str | None, state: str | None, limit: int, offset: int
    ) -> tuple[list[QualityQty], int]:
        conds = [quality_stock.c.qty > 0]
        if node is not None:
            conds.append(quality_stock.c.node_code == node)
        if material is not None:
            conds.append(quality_stock.c.material_code == material)
        if state is not None:
            conds.append(quality_stock.c.state == state)
        rows, total = await page_of(
            self.session,
            quality_stock,
            conds,
            [quality_stock.c.node_code, quality_stock.c.material_code, quality_stock.c.state],
            limit=limit,
            offset=offset,
        )
        return [_quality(r) for r in rows], total

    # -- quality moves ------------------------------------------------------------------------------------
    async def claim_quality_move(self, m: QualityMoveRow) -> bool:
        stmt = (
            insert(quality_moves)
            .values(
                move_id=m.move_id,
                node_code=m.node_code,
                material_code=m.material_code,
                qty=m.qty,
                from_state=m.from_state,
                to_state=m.to_state,
                reason=m.reason,
                created_at=m.created_at,
            )
            .on_conflict_do_nothing(index_elements=[quality_moves.c.move_id])
            .returning(quality_moves.c.move_id)
        )
        return (await self.session.execute(stmt)).first() is not None

    async def get_quality_move(self, move_id: str) -> QualityMoveRow | None:
        row = (
            await self.session.execute(select(quality_moves).where(quality_moves.c.move_id == move_id))
        ).first()
        return _move(row) if row else None

    async def list_quality_moves(
        self, *, node: str | None, material: str | None, limit: int, offset: int
    ) -> tuple[list[QualityMoveRow], int]:
        conds = []
        if node is not None:
            conds.append(quality_moves.c.node_code == node)
        if material is not None:
            conds.append(quality_moves.c.material_code == material)
        rows, total = await page_of(
            self.session,
            quality_moves,
            conds,
            [quality_moves.c.created_at.desc(), quality_moves.c.move_id],
            limit=limit,
            offset=offset,
        )
        return [_move(r) for r in rows], total

    # -- counts -------------------------------------------------------------------------------------------
    async def claim_count(self, count_id: str, node: str, note: str, at: datetime) -> bool:
        """Insert the count (its lines come with `record_count_lines`); False when the id exists."""
        stmt = (
            insert(counts)
            .values(count_id=count_id, node_code=node, lines=[], note=note, created_at=at)
            .on_conflict_do_nothing(index_elements=[counts.c.count_id])
            .returning(counts.c.count_id)
        )
        return (await self.session.execute(stmt)).first() is not None

    async def record_count_lines(self, count_id: str, lines: list[CountedLine]) -> None:
        await self.session.execute(
            counts.update().where(counts.c.count_id == count_id).values(lines=counted_json(lines))
        )

    async def get_count(self, count_id: str) -> CountRow | None:
        row = (await self.session.execute(select(counts).where(counts.c.count_id == count_id))).first()
        return _count(row) if row else None

    async def list_counts(self, *, node: str | None, limit: int, offset: int) -> tuple[list[CountRow], int]:
        conds = [] if node is None else [counts.c.node_code == node]
        rows, total = await page_of(
            self.session,
            counts,
            conds,
            [counts.c.created_at.desc(), counts.c.count_id],
            limit=limit,
            offset=offset,
        )
        return [_count(r) for r in rows], total
