"""The repository's queries for re-sealing buyer data (a mixin of `store.Repository`; SQL only)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .domain.buyer_data import FIELDS
from .tables import orders


class BuyerDataQueries:
    session: AsyncSession

    async def receivers_after(self, after: str | None, limit: int) -> list[dict[str, Any]]:
        """The next `limit` orders' sealed receiver columns after order id `after`, locked (FOR UPDATE)."""
        o = orders.c
        stmt = select(o.order_id, *(o[c] for c in FIELDS)).order_by(o.order_id).limit(limit).with_for_update()
        if after is not None:
            stmt = stmt.where(o.order_id > after)
        return [dict(r) for r in (await self.session.execute(stmt)).mappings()]
