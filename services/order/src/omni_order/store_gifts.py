"""The repository's queries for gifts (a mixin of `store.Repository`; SQL only)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from .tables_gifts import gift_counters, gift_grants, stock_seen

C = gift_counters.c
S = stock_seen.c
EVERYONE = "*"


class GiftQueries:
    session: AsyncSession

    async def lock_gift_counters(
        self, keys: Iterable[tuple[str, str]], at: datetime
    ) -> dict[tuple[str, str], int]:
        """Sets given per (gift id, scope), each counter row made if missing and locked (FOR UPDATE, in key
        order) until the transaction ends."""
        wanted = sorted(set(keys))
        if not wanted:
            return {}
        await self.session.execute(
            insert(gift_counters)
            .values([{"gift_id": g, "scope": s, "sets": 0, "updated_at": at} for g, s in wanted])
            .on_conflict_do_nothing()
        )
        res = await self.session.execute(
            select(C.gift_id, C.scope, C.sets)
            .where(tuple_(C.gift_id, C.scope).in_(wanted))
            .order_by(C.gift_id, C.scope)
            .with_for_update()
        )
        return {(r.gift_id, r.scope): r.sets for r in res}

    async def gift_counts(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """Sets given so far per (gift id, scope), read without a lock (the dry-run's view); absent: 0."""
        wanted = sorted(set(keys))
        if not wanted:
            return {}
        res = await self.session.execute(
            select(C.gift_id, C.scope, C.sets).where(tuple_(C.gift_id, C.scope).in_(wanted))
        )
        return {(r.gift_id, r.scope): r.sets for r in res}

    async def add_gift_grants(self, rows: Sequence[dict[str, Any]], at: datetime) -> None:
        """Record what each order was given and count it, per buyer and for everyone."""
        if not rows:
            return
        await self.session.execute(insert(gift_grants), list(rows))
        counts: dict[tuple[str, str], int] = {}
        for r in rows:
            for scope in (r["buyer_key"], EVERYONE):
                counts[(r["gift_id"], scope)] = counts.get((r["gift_id"], scope), 0) + r["sets"]
        stmt = insert(gift_counters).values(
            [{"gift_id": g, "scope": s, "sets": n, "updated_at": at} for (g, s), n in sorted(counts.items())]
        )
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=[C.gift_id, C.scope],
                set_={"sets": C.sets + stmt.excluded.sets, "updated_at": stmt.excluded.updated_at},
            )
        )

    async def gift_grants_of(self, order_id: str) -> list[dict[str, Any]]:
        q = select(gift_grants).where(gift_grants.c.order_id == order_id).order_by(gift_grants.c.gift_id)
        return [dict(r) for r in (await self.session.execute(q)).mappings()]

    async def stock_available(self, materials: Iterable[str]) -> dict[str, int]:
        """Available units per material over every node seen (a material never seen is absent)."""
        codes = sorted(set(materials))
        if not codes:
            return {}
        q = (
            select(S.material_code, func.sum(func.greatest(S.available, 0)))
            .where(S.material_code.in_(codes))
            .group_by(S.material_code)
        )
        return {code: int(total) for code, total in (await self.session.execute(q)).all()}

    async def save_stock_seen(self, rows: Sequence[dict[str, Any]]) -> None:
        """Upsert (node, material) -> available, keeping the row with the highest seq."""
        if not rows:
            return
        stmt = insert(stock_seen).values(list(rows))
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=[S.material_code, S.node_code],
                set_={"available": stmt.excluded.available, "seq": stmt.excluded.seq,
                      "changed_at": stmt.excluded.changed_at},
                where=S.seq < stmt.excluded.seq,
            )
        )  # fmt: skip
