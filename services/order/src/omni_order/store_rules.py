"""The repository's queries for rule sets, strategies (versioned), order holds and the decision trace
(a mixin of `store.Repository`; SQL only)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, and_, func, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from .tables import channel_listings, materials, order_lines, orders, sales_products
from .tables_rules import (
    buyer_blacklist,
    order_decisions,
    order_holds,
    ruleset_versions,
    rulesets,
    strategies,
    strategy_versions,
)

KINDS: dict[str, tuple[Table, Table, str]] = {
    "ruleset": (rulesets, ruleset_versions, "ruleset_id"),
    "strategy": (strategies, strategy_versions, "strategy_id"),
}
OPEN = ("received", "held", "accepted", "sourcing", "allocated", "backorder")


class RuleQueries:
    session: AsyncSession

    # -- versioned documents (rule sets and strategies) ---------------------------------------------------
    async def save_version(
        self, kind: str, doc_id: str, name: str, doc: dict[str, Any], comment: str, at: datetime
    ) -> int:
        """A new version of the document (the first is 1); the head row moves to it. One writer at a time
        per document: the upsert locks the head row."""
        head, versions, key = KINDS[kind]
        stmt = insert(head).values(
            {key: doc_id, "version": 1, "name": name, "created_at": at, "updated_at": at}
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[key],
            set_={"version": head.c.version + 1, "name": name, "updated_at": at},
        ).returning(head.c.version)
        version = (await self.session.execute(stmt)).scalar_one()
        await self.session.execute(
            insert(versions).values(
                {key: doc_id, "version": version, "doc": doc, "comment": comment, "created_at": at}
            )
        )
        return int(version)

    async def current_docs(self, kind: str, ids: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """The current version of each document (all of them, or those of `ids`), by id."""
        head, versions, key = KINDS[kind]
        q = (
            select(head.c[key].label("id"), head.c.version, head.c.name, head.c.created_at, head.c.updated_at,
                   versions.c.doc, versions.c.comment)
            .join(versions, and_(versions.c[key] == head.c[key], versions.c.version == head.c.version))
            .order_by(head.c[key])
        )  # fmt: skip
        if ids is not None:
            q = q.where(head.c[key].in_(list(ids)))
        return [dict(r) for r in (await self.session.execute(q)).mappings()]

    async def doc_page(self, kind: str, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
        head, _, _ = KINDS[kind]
        rows = await self.current_docs(kind)
        total = (await self.session.execute(select(func.count()).select_from(head))).scalar_one()
        return rows[offset : offset + limit], int(total)

    async def doc_versions(self, kind: str, doc_id: str) -> list[dict[str, Any]]:
        _, versions, key = KINDS[kind]
        q = select(versions).where(versions.c[key] == doc_id).order_by(versions.c.version.desc())
        return [dict(r) for r in (await self.session.execute(q)).mappings()]

    async def doc_version(self, kind: str, doc_id: str, version: int) -> dict[str, Any] | None:
        _, versions, key = KINDS[kind]
        q = select(versions).where(versions.c[key] == doc_id, versions.c.version == version)
        row = (await self.session.execute(q)).mappings().first()
        return dict(row) if row else None

    # -- what a rule may name -----------------------------------------------------------------------------
    async def known_shops(self) -> set[str]:
        q = select(channel_listings.c.channel, channel_listings.c.shop_id).distinct()
        q2 = select(orders.c.channel, orders.c.shop_id).distinct()
        rows = list(await self.session.execute(q)) + list(await self.session.execute(q2))
        return {f"{c}:{s}" for c, s in rows}

    async def known_skus(self, codes: set[str]) -> set[str]:
        if not codes:
            return set()
        a = select(materials.c.code).where(materials.c.code.in_(codes))
        b = select(sales_products.c.code).where(sales_products.c.code.in_(codes))
        return {r[0] for r in await self.session.execute(a.union(b))}

    async def known_categories(self) -> set[str]:
        if "category" not in materials.c:
            return set()
        q = select(materials.c.category).distinct()
        return {r[0] for r in await self.session.execute(q) if r[0]}

    # -- the buyer's other orders and the blacklist --------------------------------------------------------
    async def buyer_orders(
        self, buyers: set[tuple[str, str, str]], since: datetime
    ) -> tuple[dict[tuple[str, str, str], int], list[dict[str, Any]]]:
        """Per (channel, shop, buyer): how many orders it has; and its open orders since `since`, each with
        its material lines as (material, qty) pairs."""
        if not buyers:
            return {}, []
        key = tuple_(orders.c.channel, orders.c.shop_id, orders.c.buyer_id)
        counts = (
            select(orders.c.channel, orders.c.shop_id, orders.c.buyer_id, func.count())
            .where(key.in_(list(buyers)))
            .group_by(orders.c.channel, orders.c.shop_id, orders.c.buyer_id)
        )
        n = {(c, s, b): int(k) for c, s, b, k in await self.session.execute(counts)}
        ol = order_lines.c
        goods = func.array_agg(func.concat(ol.material_code, "×", ol.qty)).label("goods")
        q = (
            select(orders.c.order_id, orders.c.channel, orders.c.shop_id, orders.c.buyer_id, goods)
            .join(order_lines, order_lines.c.order_id == orders.c.order_id)
            .where(key.in_(list(buyers)), orders.c.status.in_(OPEN), orders.c.created_at >= since)
            .group_by(orders.c.order_id)
        )  # fmt: skip
        return n, [dict(r) for r in (await self.session.execute(q)).mappings()]

    async def blacklisted(self, keys: set[str]) -> set[str]:
        if not keys:
            return set()
        q = select(buyer_blacklist.c.buyer_key).where(buyer_blacklist.c.buyer_key.in_(keys))
        return {r[0] for r in await self.session.execute(q)}

    async def put_blacklist(self, key: str, reason: str, at: datetime) -> dict[str, Any]:
        stmt = insert(buyer_blacklist).values(buyer_key=key, reason=reason, added_at=at)
        stmt = stmt.on_conflict_do_update(index_elements=["buyer_key"], set_={"reason": reason})
        return dict((await self.session.execute(stmt.returning(buyer_blacklist))).mappings().one())

    async def delete_blacklist(self, key: str) -> bool:
        res = await self.session.execute(buyer_blacklist.delete().where(buyer_blacklist.c.buyer_key == key))
        return bool(res.rowcount)  # type: ignore[attr-defined]

    async def blacklist_page(self, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
        q = select(buyer_blacklist).order_by(buyer_blacklist.c.buyer_key).limit(limit).offset(offset)
        rows = [dict(r) for r in (await self.session.execute(q)).mappings()]
        total = (await self.session.execute(select(func.count()).select_from(buyer_blacklist))).scalar_one()
        return rows, int(total)

    # -- holds and the trace ------------------------------------------------------------------------------
    async def add_holds(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            await self.session.execute(insert(order_holds), list(rows))

    async def open_holds(self, order_ids: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
        ids = list(order_ids)
        out: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
        if not ids:
            return out
        q = select(order_holds).where(order_holds.c.order_id.in_(ids), order_holds.c.ended_at.is_(None))
        for r in (await self.session.execute(q.order_by(order_holds.c.id))).mappings():
            out[r["order_id"]].append(dict(r))
        return out

    async def holds(self, order_id: str) -> list[dict[str, Any]]:
        q = select(order_holds).where(order_holds.c.order_id == order_id).order_by(order_holds.c.id)
        return [dict(r) for r in (await self.session.execute(q)).mappings()]

    async def end_holds(
        self, order_id: str, by: str, reason: str, at: datetime, codes: Sequence[str] | None = None
    ) -> None:
        """End the order's open holds (only those of `codes`, when given)."""
        q = update(order_holds).where(order_holds.c.order_id == order_id, order_holds.c.ended_at.is_(None))
        if codes is not None:
            q = q.where(order_holds.c.code.in_(list(codes)))
        await self.session.execute(q.values(ended_at=at, ended_by=by, end_reason=reason))

    async def add_decisions(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            await self.session.execute(insert(order_decisions), list(rows))

    async def decisions(self, order_id: str) -> list[dict[str, Any]]:
        q = (
            select(order_decisions)
            .where(order_decisions.c.order_id == order_id)
            .order_by(order_decisions.c.id)
        )
        return [dict(r) for r in (await self.session.execute(q)).mappings()]

    async def recent_orders(
        self, limit: int, since: datetime | None, until: datetime | None
    ) -> list[dict[str, Any]]:
        """The newest platform orders (for a dry-run: not the merged orders Omni made of them)."""
        q = (
            select(orders)
            .where(orders.c.kind == "order")
            .order_by(orders.c.created_at.desc(), orders.c.order_id.desc())
            .limit(limit)
        )
        if since is not None:
            q = q.where(orders.c.created_at >= since)
        if until is not None:
            q = q.where(orders.c.created_at < until)
        return [dict(r) for r in (await self.session.execute(q)).mappings()]

    async def statuses(self, order_ids: Sequence[str]) -> list[dict[str, Any]]:
        if not order_ids:
            return []
        q = select(orders.c.order_id, orders.c.status).where(orders.c.order_id.in_(list(order_ids)))
        return [dict(r) for r in (await self.session.execute(q)).mappings()]

    async def orders_by_channel_keys(self, keys: set[tuple[str, str]]) -> list[dict[str, Any]]:
        """The orders of these (channel, channel order id), locked (a repeated delivery may move them)."""
        if not keys:
            return []
        q = select(orders).where(tuple_(orders.c.channel, orders.c.channel_order_id).in_(list(keys)))
        return [dict(r) for r in (await self.session.execute(q.with_for_update())).mappings()]
