"""The store sales' SQL (part of the repository, see store.py): which sale lines were already applied, one
conditional statement per material a sale takes out of a store, and the record of each applied line."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from omni_chassis.sqlpage import page_of

from .records import StockRow
from .tables_pos import store_sale_lines

# Take up to :q of what the store has available (on hand less reserved and frozen): never more, so the stock
# row stays consistent; the caller records the rest as not booked. Nothing available: no row changes.
_TAKE = text(
    "WITH cur AS (SELECT node_code, material_code, "
    "  LEAST(:q, GREATEST(on_hand - reserved - frozen, 0)) AS take FROM stock "
    "  WHERE node_code = :node AND material_code = :m FOR UPDATE) "
    "UPDATE stock s SET on_hand = s.on_hand - cur.take, seq = s.seq + 1, updated_at = :at FROM cur "
    "WHERE s.node_code = cur.node_code AND s.material_code = cur.material_code AND cur.take > 0 "
    "RETURNING s.node_code, s.material_code, s.on_hand, s.reserved, s.frozen, s.seq, s.updated_at, cur.take"
)


class StoreSaleQueries:
    session: AsyncSession

    async def store_lines_applied(self, refs: Iterable[str]) -> set[str]:
        refs = sorted(set(refs))
        if not refs:
            return set()
        rows = await self.session.execute(
            select(store_sale_lines.c.line_ref).where(store_sale_lines.c.line_ref.in_(refs))
        )
        return {r[0] for r in rows}

    async def take_for_store_sale(
        self, node: str, material: str, qty: int, at: datetime
    ) -> tuple[StockRow | None, int]:
        """Up to `qty` out of the node's available stock: (the row after, what was taken); (None, 0) when the
        node has none of it available."""
        row = (await self.session.execute(_TAKE, {"q": qty, "node": node, "m": material, "at": at})).first()
        if row is None:
            return None, 0
        after = StockRow(row.node_code, row.material_code, row.on_hand, row.reserved, row.frozen, row.seq,
                         row.updated_at)  # fmt: skip
        return after, row.take

    async def add_store_lines(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            await self.session.execute(insert(store_sale_lines).on_conflict_do_nothing(), list(rows))

    async def short_store_lines(
        self, node: str, *, limit: int, offset: int
    ) -> tuple[list[dict[str, Any]], int]:
        """The store sale lines the stock could not give in full, newest first, and how many there are."""
        c = store_sale_lines.c
        rows, total = await page_of(self.session, store_sale_lines, [c.node_code == node, c.booked < c.qty],
                                    [c.at.desc(), c.line_ref], limit=limit, offset=offset)  # fmt: skip
        return [dict(r._mapping) for r in rows], total
