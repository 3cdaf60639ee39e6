"""The repository's queries for backorders (a mixin of `store.Repository`; SQL only)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from .tables import orders
from .tables_backorders import order_backorder_shortfalls, order_backorders

B = order_backorders.c
S = order_backorder_shortfalls.c
O = orders.c  # noqa: E741
LISTED = (O.order_id, O.channel, O.shop_id, O.channel_order_id, O.status, B.since, B.last_at, B.times,
          B.due_at, B.on_overdue, B.reason, B.resourced_at)  # fmt: skip


class BackorderQueries:
    session: AsyncSession

    async def backorders_of(self, order_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The backorder rows of these orders (those that ever waited for stock)."""
        ids = sorted(set(order_ids))
        if not ids:
            return {}
        res = await self.session.execute(select(order_backorders).where(B.order_id.in_(ids)))
        return {r["order_id"]: dict(r) for r in res.mappings()}

    async def orders_by_id(self, order_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        ids = sorted(set(order_ids))
        if not ids:
            return {}
        res = await self.session.execute(select(orders).where(O.order_id.in_(ids)))
        return {r["order_id"]: dict(r) for r in res.mappings()}

    async def save_backorders(
        self, rows: Sequence[dict[str, Any]], shortfalls: Sequence[dict[str, Any]]
    ) -> None:
        """Insert or update these backorders (an existing one keeps its `since`); their shortfall rows
        replace the ones they had."""
        if not rows:
            return
        stmt = insert(order_backorders).values(list(rows))
        keep = {"order_id", "since"}
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=[B.order_id],
                set_={c.name: stmt.excluded[c.name] for c in order_backorders.c if c.name not in keep},
            )
        )
        await self.session.execute(
            delete(order_backorder_shortfalls).where(S.order_id.in_([r["order_id"] for r in rows]))
        )
        if shortfalls:
            await self.session.execute(insert(order_backorder_shortfalls).values(list(shortfalls)))

    async def waiting_for(self, material_code: str, limit: int) -> list[dict[str, Any]]:
        """The orders in backorder short of this material, oldest first: order_id, missing, delivery,
        pickup_node."""
        res = await self.session.execute(
            select(O.order_id, S.missing, O.delivery, O.pickup_node)
            .select_from(order_backorders.join(orders, O.order_id == B.order_id).join(
                order_backorder_shortfalls, S.order_id == B.order_id))
            .where(O.status == "backorder", S.material_code == material_code)
            .order_by(B.since, B.order_id)
            .limit(limit)
        )  # fmt: skip
        return [dict(r) for r in res.mappings()]

    async def update_backorders(self, changes: dict[str, dict[str, Any]]) -> None:
        for order_id, cols in changes.items():
            await self.session.execute(update(order_backorders).where(B.order_id == order_id).values(**cols))

    async def list_backorders(
        self, *, material_code: str | None, channel: str | None, shop_id: str | None, limit: int, offset: int
    ) -> tuple[list[dict[str, Any]], int]:
        """The orders waiting as backorders, oldest first, each with its shortfall; and how many match."""
        where = [O.status == "backorder"]
        if material_code:
            where.append(
                B.order_id.in_(select(S.order_id).where(S.material_code == material_code).scalar_subquery())
            )
        if channel:
            where.append(O.channel == channel)
        if shop_id:
            where.append(O.shop_id == shop_id)
        joined = order_backorders.join(orders, O.order_id == B.order_id)
        total = (
            await self.session.execute(select(func.count()).select_from(joined).where(*where))
        ).scalar_one()
        res = await self.session.execute(
            select(*LISTED).select_from(joined).where(*where).order_by(B.since, B.order_id)
            .limit(limit).offset(offset)
        )  # fmt: skip
        items = [dict(r) for r in res.mappings()]
        short: dict[str, list[dict[str, Any]]] = {x["order_id"]: [] for x in items}
        if short:
            rows = await self.session.execute(
                select(order_backorder_shortfalls)
                .where(S.order_id.in_(list(short)))
                .order_by(S.order_id, S.material_code)
            )
            for r in rows.mappings():
                short[r["order_id"]].append(dict(r))
        for x in items:
            x["shortfall"] = short[x["order_id"]]
        return items, total
