"""The received after-sales' SQL (part of the repository, see store.py): the list and one refund's or
close's rows, one per status with its delivery count."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omni_chassis.sqlpage import matching, page_of

from .tables_aftersales import received_after_sales

A = received_after_sales.c


class AfterSalesQueries:
    session: AsyncSession

    async def list_after_sales(
        self, *, filters: dict[str, str | None], limit: int, offset: int
    ) -> tuple[list[dict[str, Any]], int]:
        """Newest first, one row per (channel, kind, ref id, status)."""
        conds = matching(*((A[k], v) for k, v in filters.items()))
        order = [A.received_at.desc(), A.channel, A.kind, A.ref_id, A.channel_status]
        rows, total = await page_of(
            self.session, received_after_sales, conds, order, limit=limit, offset=offset
        )
        return [dict(r._mapping) for r in rows], total

    async def after_sale_rows(self, channel: str, kind: str, ref_id: str) -> list[dict[str, Any]]:
        rows = await self.session.execute(
            select(received_after_sales)
            .where((A.channel == channel) & (A.kind == kind) & (A.ref_id == ref_id))
            .order_by(A.received_at, A.channel_status)
        )
        return [dict(r) for r in rows.mappings()]
