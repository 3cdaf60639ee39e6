"""The repository: the only code that knows SQL. Tables are in `tables.py` (re-exported here).

`Repository(session)` is bound to the unit of work's session (`create_app(..., repository=Repository)`);
use cases reach it as `uow.repo` and never see the session. Every method is one statement or a fixed
handful, whatever the number of rows: intake and the fulfillment follower call them once per batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, and_, bindparam, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from .store_aftersales import AfterSalesQueries
from .store_backorders import BackorderQueries
from .store_buyer_data import BuyerDataQueries
from .store_catalog import CatalogQueries, newest
from .store_credit import CreditQueries
from .store_gifts import GiftQueries
from .store_merge import MergeQueries
from .store_problems import WritebackProblems
from .store_rules import RuleQueries
from .tables import (
    channel_listings,
    materials,
    metadata,
    order_channel_lines,
    order_line_allocations,
    order_lines,
    order_shipment_lines,
    order_shipments,
    order_status_history,
    orders,
    sales_product_components,
    sales_products,
)

__all__ = [
    "Repository",
    "channel_listings",
    "materials",
    "metadata",
    "newest",
    "order_channel_lines",
    "order_line_allocations",
    "order_lines",
    "order_shipment_lines",
    "order_shipments",
    "order_status_history",
    "orders",
    "sales_product_components",
    "sales_products",
]

SUMMARY_COLUMNS = (
    "order_id", "channel", "shop_id", "channel_order_id", "channel_status", "business_model", "status",
    "status_reason_code", "status_reason", "delivery", "currency", "paid_cents", "goods_paid_cents",
    "created_at", "paid_at", "received_at", "updated_at", "duplicate_deliveries",
)  # fmt: skip


class Repository(
    CatalogQueries,
    WritebackProblems,
    RuleQueries,
    AfterSalesQueries,
    BackorderQueries,
    GiftQueries,
    MergeQueries,
    BuyerDataQueries,
    CreditQueries,
):
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # -- orders: writes ----------------------------------------------------------------------------------
    async def insert_new_orders(self, rows: list[dict[str, Any]]) -> set[str]:
        """Insert orders; a (channel, channel_order_id) already stored is skipped. Returns the new ids."""
        if not rows:
            return set()
        stmt = (
            insert(orders)
            .on_conflict_do_nothing(index_elements=["channel", "channel_order_id"])
            .returning(orders.c.order_id)
        )
        return {r[0] for r in await self.session.execute(stmt, rows)}

    async def count_duplicates(self, counts: dict[tuple[str, str], int], at: datetime) -> None:
        """Add to the duplicate delivery count of already stored orders, one statement for all."""
        if not counts:
            return
        keys = list(counts)
        await self.session.execute(
            text(
                "UPDATE orders o SET duplicate_deliveries = o.duplicate_deliveries + d.n, "
                "last_duplicate_at = :at FROM unnest(CAST(:channels AS text[]), CAST(:ids AS text[]), "
                "CAST(:ns AS int[])) AS d(channel, coid, n) "
                "WHERE o.channel = d.channel AND o.channel_order_id = d.coid"
            ),
            {
                "channels": [k[0] for k in keys],
                "ids": [k[1] for k in keys],
                "ns": [counts[k] for k in keys],
                "at": at,
            },
        )

    async def _insert(self, table: Table, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            await self.session.execute(insert(table), list(rows))

    async def add_channel_lines(self, rows: Sequence[dict[str, Any]]) -> None:
        await self._insert(order_channel_lines, rows)

    async def add_lines(self, rows: Sequence[dict[str, Any]]) -> None:
        await self._insert(order_lines, rows)

    async def add_history(self, rows: Sequence[dict[str, Any]]) -> None:
        await self._insert(order_status_history, rows)

    async def set_channel_line_matches(
        self, order_id: str, matches: list[tuple[int, str | None, str | None]]
    ) -> None:
        """Record the listing (and sales product) each channel line matched: (position, listing, code)."""
        t = order_channel_lines
        stmt = (
            update(t)
            .where(t.c.order_id == bindparam("_order_id"), t.c.position == bindparam("_position"))
            .values(listing_id=bindparam("_listing_id"), sales_product_code=bindparam("_code"))
        )
        params = [
            {"_order_id": order_id, "_position": p, "_listing_id": listing, "_code": code}
            for p, listing, code in matches
        ]
        await self.session.execute(stmt.execution_options(synchronize_session=False), params)

    async def update_orders(self, changes: dict[str, dict[str, Any]]) -> None:
        """Per-order column changes, grouped by the set of columns: one executemany per group."""
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for order_id, cols in changes.items():
            groups.setdefault(tuple(sorted(cols)), []).append(
                {"_id": order_id, **{f"_{k}": v for k, v in cols.items()}}
            )
        for cols, rows in groups.items():
            stmt = (
                update(orders)
                .where(orders.c.order_id == bindparam("_id"))
                .values({c: bindparam(f"_{c}") for c in cols})
            )
            await self.session.execute(stmt.execution_options(synchronize_session=False), rows)

    async def replace_allocations(self, order_ids: Iterable[str], rows: list[dict[str, Any]]) -> None:
        ids = list(set(order_ids))
        if ids:
            t = order_line_allocations
            await self.session.execute(t.delete().where(t.c.order_id.in_(ids)))
        await self._insert(order_line_allocations, rows)

    async def upsert_shipments(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        best = {(r["order_id"], r["task_id"]): r for r in rows}
        stmt = insert(order_shipments)
        stmt = stmt.on_conflict_do_update(
            index_elements=["order_id", "task_id"],
            set_={c: stmt.excluded[c] for c in ("node_code", "kind", "carrier", "tracking_no", "at")},
        )
        await self.session.execute(stmt, list(best.values()))

    async def upsert_shipment_lines(self, rows: list[dict[str, Any]]) -> None:
        """What each task took of each order line; a task told again replaces its quantities."""
        if not rows:
            return
        best = {(r["order_id"], r["task_id"], r["line_id"]): r for r in rows}
        stmt = insert(order_shipment_lines)
        stmt = stmt.on_conflict_do_update(
            index_elements=["order_id", "task_id", "line_id"],
            set_={c: stmt.excluded[c] for c in ("qty", "matched")},
        )
        await self.session.execute(stmt, list(best.values()))

    # -- orders: reads -----------------------------------------------------------------------------------
    async def lock_orders(self, order_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The state of these orders, locked for this transaction (FOR UPDATE), in one query."""
        ids = sorted(set(order_ids))
        if not ids:
            return {}
        o = orders
        rows = await self.session.execute(
            select(o.c.order_id, o.c.status, o.c.channel, o.c.channel_order_id, o.c.delivery)
            .where(o.c.order_id.in_(ids))
            .order_by(o.c.order_id)
            .with_for_update()
        )
        return {r.order_id: dict(r._mapping) for r in rows}

    async def _by_order(
        self, table: Table, order_ids: Iterable[str], *order_by: Any
    ) -> dict[str, list[dict[str, Any]]]:
        ids = list(set(order_ids))
        out: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
        if ids:
            rows = await self.session.execute(
                select(table).where(table.c.order_id.in_(ids)).order_by(table.c.order_id, *order_by)
            )
            for r in rows.mappings():
                out[r["order_id"]].append(dict(r))
        return out

    async def material_lines(self, order_ids: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
        return await self._by_order(order_lines, order_ids, order_lines.c.position)

    async def allocations(self, order_ids: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
        t = order_line_allocations
        return await self._by_order(t, order_ids, t.c.task_id, t.c.line_id)

    async def shipped_tasks(self, order_ids: Iterable[str]) -> dict[str, set[str]]:
        """The tasks of these orders that have shipped (or been picked up)."""
        ids = list(set(order_ids))
        out: dict[str, set[str]] = {i: set() for i in ids}
        if ids:
            t = order_shipments
            for r in await self.session.execute(
                select(t.c.order_id, t.c.task_id).where(t.c.order_id.in_(ids))
            ):
                out[r.order_id].add(r.task_id)
        return out

    async def channel_lines(self, order_id: str) -> list[dict[str, Any]]:
        t = order_channel_lines
        rows = await self.session.execute(select(t).where(t.c.order_id == order_id).order_by(t.c.position))
        return [dict(r) for r in rows.mappings()]

    async def get_order(self, order_id: str, *, for_update: bool = False) -> dict[str, Any] | None:
        stmt = select(orders).where(orders.c.order_id == order_id)
        if for_update:
            stmt = stmt.with_for_update()
        row = (await self.session.execute(stmt)).mappings().first()
        return dict(row) if row else None

    async def find_order_id(self, channel: str, channel_order_id: str) -> str | None:
        o = orders
        stmt = select(o.c.order_id).where(
            and_(o.c.channel == channel, o.c.channel_order_id == channel_order_id)
        )
        return (await self.session.execute(stmt)).scalar()

    async def order_children(self, order_id: str) -> dict[str, list[dict[str, Any]]]:
        """Everything hanging off one order, for its view: lines, allocations, shipments, history."""

        async def rows(table: Table, *order_by: Any) -> list[dict[str, Any]]:
            res = await self.session.execute(
                select(table).where(table.c.order_id == order_id).order_by(*order_by)
            )
            return [dict(r) for r in res.mappings()]

        a, s, sl = order_line_allocations, order_shipments, order_shipment_lines
        return {
            "channel_lines": await rows(order_channel_lines, order_channel_lines.c.position),
            "lines": await rows(order_lines, order_lines.c.position),
            "allocations": await rows(a, a.c.line_id, a.c.task_id),
            "shipments": await rows(s, s.c.at, s.c.task_id),
            "shipment_lines": await rows(sl, sl.c.task_id, sl.c.line_id),
            "history": await rows(order_status_history, order_status_history.c.id),
            "writeback_problems": await self.writeback_problems(order_id),
        }

    async def list_orders(
        self,
        *,
        status: str | None,
        channel: str | None,
        shop_id: str | None,
        created_from: datetime | None,
        created_to: datetime | None,
        limit: int,
        offset: int,
    ) -> tuple[list[dict[str, Any]], int]:
        """Newest first (channel creation time, then order id). `created_to` is exclusive."""
        conds = []
        if status:
            conds.append(orders.c.status == status)
        if channel:
            conds.append(orders.c.channel == channel)
        if shop_id:
            conds.append(orders.c.shop_id == shop_id)
        if created_from:
            conds.append(orders.c.created_at >= created_from)
        if created_to:
            conds.append(orders.c.created_at < created_to)
        q = select(*[orders.c[c] for c in SUMMARY_COLUMNS])
        count = select(func.count()).select_from(orders)
        if conds:
            q = q.where(*conds)
            count = count.where(*conds)
        q = q.order_by(orders.c.created_at.desc(), orders.c.order_id.desc()).limit(limit).offset(offset)
        items = [dict(r) for r in (await self.session.execute(q)).mappings()]
        total = (await self.session.execute(count)).scalar_one()
        return items, total
