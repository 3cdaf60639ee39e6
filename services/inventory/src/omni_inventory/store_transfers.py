"""SQL of transfers between nodes and of in-transit stock (part of the repository, see store.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from omni_chassis.sqlpage import page_of

from .domain.model import Line
from .records import StockRow
from .records_physical import TransferRow, TransitQty, transfer_lines_json, transfer_lines_of
from .tables import stock
from .tables_physical import in_transit, transfers

_TAKE_TRANSIT = text(
    "UPDATE in_transit SET qty = qty - :n, seq = seq + 1, updated_at = :at "
    "WHERE node_code = :node AND material_code = :m AND qty >= :n "
    "RETURNING node_code, material_code, qty, seq, updated_at"
)


def _stock_row(r: Any) -> StockRow:
    return StockRow(r.node_code, r.material_code, r.on_hand, r.reserved, r.frozen, r.seq, r.updated_at)


def _transit(r: Any) -> TransitQty:
    return TransitQty(r.node_code, r.material_code, r.qty, r.seq, r.updated_at)


def _transfer(r: Any) -> TransferRow:
    return TransferRow(
        r.transfer_id,
        r.source_node,
        r.target_node,
        r.status,
        transfer_lines_of(r.lines),
        r.note,
        r.created_at,
        r.updated_at,
        r.shipped_at,
        r.received_at,
        r.cancelled_at,
    )


class TransferQueries:
    session: AsyncSession

    async def take_good_all(self, node: str, lines: Sequence[Line], at: datetime) -> list[StockRow] | None:
        """Every line out of the node's good stock (conditional on available) or none (a savepoint).
        `take_good` is QualityQueries' (both are mixed into store.Repository)."""
        savepoint = await self.session.begin_nested()
        try:
            rows = []
            for line in lines:
                row = await self.take_good(node, line.material_code, line.qty, at)  # type: ignore[attr-defined]
                if row is None:
                    await savepoint.rollback()
                    return None
                rows.append(row)
        except BaseException:
            await savepoint.rollback()
            raise
        await savepoint.commit()
        return rows

    async def receive_counted(
        self, node: str, lines: Sequence[tuple[str, int, int]], at: datetime
    ) -> list[StockRow]:
        """(material, qty, changes): on hand up by qty, seq up by `changes` (ledger rows), rows created as
        needed; one statement, rows in material order."""
        stmt = insert(stock).values(
            [
                {
                    "node_code": node,
                    "material_code": m,
                    "on_hand": q,
                    "reserved": 0,
                    "frozen": 0,
                    "seq": k,
                    "updated_at": at,
                }
                for m, q, k in lines
            ]
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[stock.c.node_code, stock.c.material_code],
            set_={
                "on_hand": stock.c.on_hand + stmt.excluded.on_hand,
                "seq": stock.c.seq + stmt.excluded.seq,
                "updated_at": at,
            },
        ).returning(*stock.c)
        rows = [_stock_row(r) for r in await self.session.execute(stmt)]
        return sorted(rows, key=lambda r: r.material_code)

    # -- in transit ---------------------------------------------------------------------------------------
    async def add_in_transit(self, node: str, lines: Sequence[Line], at: datetime) -> list[TransitQty]:
        stmt = insert(in_transit).values(
            [
                {
                    "node_code": node,
                    "material_code": x.material_code,
                    "qty": x.qty,
                    "seq": 1,
                    "updated_at": at,
                }
                for x in lines
            ]
        )
        stmt = stmt.on_conflict_do_update(
            constraint="in_transit_pkey",
            set_={"qty": in_transit.c.qty + stmt.excluded.qty, "seq": in_transit.c.seq + 1, "updated_at": at},
        ).returning(*in_transit.c)
        return sorted((_transit(r) for r in await self.session.execute(stmt)), key=lambda r: r.material_code)

    async def take_in_transit(self, node: str, material: str, qty: int, at: datetime) -> TransitQty | None:
        params = {"n": qty, "node": node, "m": material, "at": at}
        row = (await self.session.execute(_TAKE_TRANSIT, params)).first()
        return _transit(row) if row else None

    async def in_transit_of(self, node: str, material: str) -> int:
        found = await self.session.execute(
            select(in_transit.c.qty).where(
                in_transit.c.node_code == node, in_transit.c.material_code == material
            )
        )
        return found.scalar_one_or_none() or 0

    async def list_in_transit(
        self, *, node: str | None, material: str | None, limit: int, offset: int
    ) -> tuple[list[TransitQty], int]:
        conds = [in_transit.c.qty > 0]
        if node is not None:
            conds.append(in_transit.c.node_code == node)
        if material is not None:
            conds.append(in_transit.c.material_code == material)
        rows, total = await page_of(
            self.session,
            in_transit,
            conds,
            [in_transit.c.node_code, in_transit.c.material_code],
            limit=limit,
            offset=offset,
        )
        return [_transit(r) for r in rows], total

    # -- transfer orders ----------------------------------------------------------------------------------
    async def claim_transfer(self, t: TransferRow) -> bool:
        stmt = (
            insert(transfers)
            .values(
                transfer_id=t.transfer_id,
                source_node=t.source_node,
                target_node=t.target_node,
                status=t.status,
                lines=transfer_lines_json(t.lines),
                note=t.note,
                created_at=t.created_at,
                updated_at=t.updated_at,
            )
            .on_conflict_do_nothing(index_elements=[transfers.c.transfer_id])
            .returning(transfers.c.transfer_id)
        )
        return (await self.session.execute(stmt)).first() is not None

    async def get_transfer(self, transfer_id: str, *, for_update: bool = False) -> TransferRow | None:
        stmt = select(transfers).where(transfers.c.transfer_id == transfer_id)
        if for_update:
            stmt = stmt.with_for_update()
        row = (await self.session.execute(stmt)).first()
        return _transfer(row) if row else None

    async def save_transfer(self, t: TransferRow) -> None:
        """Write a transfer's status, lines and times (the caller holds its row lock)."""
        await self.session.execute(
            transfers.update()
            .where(transfers.c.transfer_id == t.transfer_id)
            .values(
                status=t.status,
                lines=transfer_lines_json(t.lines),
                updated_at=t.updated_at,
                shipped_at=t.shipped_at,
                received_at=t.received_at,
                cancelled_at=t.cancelled_at,
            )
        )

    async def list_transfers(
        self,
        *,
        status: str | None,
        node: str | None,
        source: str | None,
        target: str | None,
        limit: int,
        offset: int,
    ) -> tuple[list[TransferRow], int]:
        conds = []
        if status is not None:
            conds.append(transfers.c.status == status)
        if node is not None:
            conds.append(or_(transfers.c.source_node == node, transfers.c.target_node == node))
        if source is not None:
            conds.append(transfers.c.source_node == source)
        if target is not None:
            conds.append(transfers.c.target_node == target)
        rows, total = await page_of(
            self.session,
            transfers,
            conds,
            [transfers.c.created_at.desc(), transfers.c.transfer_id],
            limit=limit,
            offset=offset,
        )
        return [_transfer(r) for r in rows], total
