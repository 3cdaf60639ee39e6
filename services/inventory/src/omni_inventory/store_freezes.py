"""The freezes' SQL (part of the repository, see store.py): one conditional statement per stock change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from omni_chassis.sqlpage import page_of

from .records import FreezeRow, StockRow
from .tables import freezes

_COLS = "node_code, material_code, on_hand, reserved, frozen, seq, updated_at"
_FREEZE = text(
    "UPDATE stock SET frozen = frozen + :n, seq = seq + 1, updated_at = :at "
    "WHERE node_code = :node AND material_code = :m AND on_hand - reserved - frozen >= :n "
    f"RETURNING {_COLS}"
)
_UNFREEZE = text(
    "UPDATE stock SET frozen = frozen - :n, seq = seq + 1, updated_at = :at "
    "WHERE node_code = :node AND material_code = :m AND frozen >= :n "
    f"RETURNING {_COLS}"
)


def _freeze(row: Any) -> FreezeRow:
    return FreezeRow(row.freeze_id, row.node_code, row.material_code, row.qty, row.reason, row.created_at,
                     row.released_at, row.release_reason)  # fmt: skip


def _stock_row(row: Any) -> StockRow:
    return StockRow(row.node_code, row.material_code, row.on_hand, row.reserved, row.frozen, row.seq,
                    row.updated_at)  # fmt: skip


class FreezeQueries:
    session: AsyncSession

    async def freeze_stock(self, node: str, material: str, qty: int, at: datetime) -> StockRow | None:
        """Hold `qty` back when that many are available; None when not (or no stock row)."""
        params = {"n": qty, "node": node, "m": material, "at": at}
        row = (await self.session.execute(_FREEZE, params)).first()
        return _stock_row(row) if row else None

    async def unfreeze_stock(self, node: str, material: str, qty: int, at: datetime) -> StockRow | None:
        row = (
            await self.session.execute(_UNFREEZE, {"n": qty, "node": node, "m": material, "at": at})
        ).first()
        return _stock_row(row) if row else None

    async def claim_freeze(self, f: FreezeRow) -> bool:
        """Insert the freeze; False when its id exists (a repeated request)."""
        stmt = (
            insert(freezes)
            .values(
                freeze_id=f.freeze_id,
                node_code=f.node_code,
                material_code=f.material_code,
                qty=f.qty,
                reason=f.reason,
                created_at=f.created_at,
            )
            .on_conflict_do_nothing(index_elements=[freezes.c.freeze_id])
            .returning(freezes.c.freeze_id)
        )
        return (await self.session.execute(stmt)).first() is not None

    async def get_freeze(self, freeze_id: str, *, for_update: bool = False) -> FreezeRow | None:
        stmt = select(freezes).where(freezes.c.freeze_id == freeze_id)
        if for_update:
            stmt = stmt.with_for_update()
        row = (await self.session.execute(stmt)).first()
        return _freeze(row) if row else None

    async def mark_released(self, freeze_id: str, reason: str, at: datetime) -> None:
        await self.session.execute(
            freezes.update()
            .where(freezes.c.freeze_id == freeze_id, freezes.c.released_at.is_(None))
            .values(released_at=at, release_reason=reason)
        )

    async def list_freezes(
        self, *, node: str | None, material: str | None, active: bool | None, limit: int, offset: int
    ) -> tuple[list[FreezeRow], int]:
        conds = []
        if node is not None:
            conds.append(freezes.c.node_code == node)
        if material is not None:
            conds.append(freezes.c.material_code == material)
        if active is not None:
            conds.append(freezes.c.released_at.is_(None) if active else freezes.c.released_at.is_not(None))
        order = [freezes.c.created_at.desc(), freezes.c.freeze_id]
        rows, total = await page_of(self.session, freezes, conds, order, limit=limit, offset=offset)
        return [_freeze(r) for r in rows], total
