"""A shipment write-back's permanent refusal on the order (part of the repository, see store.py): SQL only."""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, literal, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from .tables import order_writeback_problems, orders

P = order_writeback_problems.c
COLUMNS = ("writeback_id", "order_id", "channel", "channel_order_id", "carrier", "company_code",
           "tracking_no", "reason", "refused_at")  # fmt: skip


class WritebackProblems:
    session: AsyncSession

    async def add_writeback_problem(self, row: dict[str, Any]) -> bool:
        """Keep a refusal on its order (a repeat changes nothing; an unknown order keeps nothing).
        True: recorded."""
        values = select(*(literal(row[c]).label(c) for c in COLUMNS)).where(
            exists().where(orders.c.order_id == row["order_id"])
        )
        stmt = (
            insert(order_writeback_problems)
            .from_select(list(COLUMNS), values)
            .on_conflict_do_nothing(constraint="order_writeback_problems_pk")
            .returning(P.writeback_id)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none() is not None

    async def writeback_problems(self, order_id: str) -> list[dict[str, Any]]:
        res = await self.session.execute(
            select(order_writeback_problems)
            .where(P.order_id == order_id)
            .order_by(P.refused_at, P.writeback_id)
        )
        return [dict(r) for r in res.mappings()]
