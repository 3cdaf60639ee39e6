"""The repository's queries for merge (合单) (a mixin of `store.Repository`; SQL only)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .tables import materials, orders

OC = orders.c


class MergeQueries:
    session: AsyncSession

    async def waiting_to_merge(self, group: str) -> list[dict[str, Any]]:
        """The held orders of a merge group, oldest first, locked (FOR UPDATE) until the transaction ends."""
        rows = await self.session.execute(
            select(orders)
            .where(OC.merge_group == group, OC.status == "held")
            .order_by(OC.created_at, OC.order_id)
            .with_for_update()
        )
        return [dict(r) for r in rows.mappings()]

    async def merged_sources(self, merged_id: str) -> list[dict[str, Any]]:
        """The source orders folded into a merged order, oldest first, locked (FOR UPDATE)."""
        rows = await self.session.execute(
            select(orders)
            .where(OC.merged_into == merged_id)
            .order_by(OC.created_at, OC.order_id)
            .with_for_update()
        )
        return [dict(r) for r in rows.mappings()]

    async def material_weights(self, codes: Iterable[str]) -> dict[str, int]:
        wanted = sorted(set(codes))
        if not wanted:
            return {}
        m = materials.c
        rows = await self.session.execute(select(m.code, m.weight_g).where(m.code.in_(wanted)))
        return {r.code: r.weight_g for r in rows}
