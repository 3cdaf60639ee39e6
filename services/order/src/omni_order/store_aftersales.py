"""The repository's queries for after-sales cases (a mixin of `store.Repository`; SQL only)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from .tables import order_line_allocations, order_shipment_lines, order_shipments
from .tables_aftersales import aftersales_cases, aftersales_history, aftersales_lines

C, L, H = aftersales_cases.c, aftersales_lines.c, aftersales_history.c


class AfterSalesQueries:
    session: AsyncSession

    async def get_case(self, case_id: str, *, for_update: bool = False) -> dict[str, Any] | None:
        stmt = select(aftersales_cases).where(C.case_id == case_id)
        if for_update:
            stmt = stmt.with_for_update()
        row = (await self.session.execute(stmt)).mappings().first()
        return dict(row) if row else None

    async def case_by_refund(self, channel: str, channel_refund_id: str) -> dict[str, Any] | None:
        """The platform refund's case, locked for this transaction."""
        stmt = (
            select(aftersales_cases)
            .where(C.channel == channel, C.channel_refund_id == channel_refund_id)
            .with_for_update()
        )
        row = (await self.session.execute(stmt)).mappings().first()
        return dict(row) if row else None

    async def insert_case(self, row: dict[str, Any]) -> bool:
        """A new case; False when the platform refund already has one (a concurrent delivery)."""
        stmt = (
            insert(aftersales_cases)
            .values(row)
            .on_conflict_do_nothing(constraint="aftersales_cases_refund_uq")
            .returning(C.case_id)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none() is not None

    async def update_case(self, case_id: str, cols: dict[str, Any]) -> None:
        await self.session.execute(update(aftersales_cases).where(C.case_id == case_id).values(cols))

    async def replace_case_lines(self, case_id: str, rows: Sequence[dict[str, Any]]) -> None:
        await self.session.execute(aftersales_lines.delete().where(L.case_id == case_id))
        if rows:
            await self.session.execute(insert(aftersales_lines), list(rows))

    async def set_inspected(self, case_id: str, rows: Sequence[dict[str, Any]]) -> None:
        """Good and defective units per line: rows of (line_id, good_qty, defective_qty)."""
        for r in rows:
            await self.session.execute(
                update(aftersales_lines)
                .where(L.case_id == case_id, L.line_id == r["line_id"])
                .values(good_qty=r["good_qty"], defective_qty=r["defective_qty"])
            )

    async def case_lines(self, case_id: str) -> list[dict[str, Any]]:
        rows = await self.session.execute(
            select(aftersales_lines).where(L.case_id == case_id).order_by(L.line_id)
        )
        return [dict(r) for r in rows.mappings()]

    async def add_case_history(self, row: dict[str, Any]) -> None:
        await self.session.execute(insert(aftersales_history).values(row))

    async def case_history(self, case_id: str) -> list[dict[str, Any]]:
        rows = await self.session.execute(
            select(aftersales_history).where(H.case_id == case_id).order_by(H.id)
        )
        return [dict(r) for r in rows.mappings()]

    async def seen_statuses(self, case_id: str) -> set[str]:
        rows = await self.session.execute(
            select(H.platform_status).where(H.case_id == case_id, H.platform_status.is_not(None))
        )
        return {r[0] for r in rows}

    async def refunded_by_line(self, order_id: str, *, but: str | None = None) -> dict[str, tuple[int, int]]:
        """What the order's cases whose money is done refunded of each line: line id -> (cents, units)."""
        stmt = (
            select(L.line_id, func.sum(L.refund_cents), func.sum(L.qty))
            .join(aftersales_cases, C.case_id == L.case_id)
            .where(C.order_id == order_id, C.money_done.is_(True))
            .group_by(L.line_id)
        )
        if but is not None:
            stmt = stmt.where(C.case_id != but)
        return {r[0]: (int(r[1]), int(r[2])) for r in await self.session.execute(stmt)}

    async def order_cases(self, order_id: str) -> list[dict[str, Any]]:
        rows = await self.session.execute(
            select(aftersales_cases).where(C.order_id == order_id).order_by(C.created_at, C.case_id)
        )
        return [dict(r) for r in rows.mappings()]

    async def shipping_nodes(self, order_id: str) -> dict[str, str]:
        """The node each line left from (its shipment, else its allocation): line id -> node code."""
        s, sl, a = order_shipments.c, order_shipment_lines.c, order_line_allocations.c
        out: dict[str, str] = {}
        for r in await self.session.execute(
            select(a.line_id, a.node_code).where(a.order_id == order_id).order_by(a.task_id)
        ):
            out.setdefault(r.line_id, r.node_code)
        for r in await self.session.execute(
            select(sl.line_id, s.node_code)
            .join(order_shipments, (s.order_id == sl.order_id) & (s.task_id == sl.task_id))
            .where(sl.order_id == order_id)
            .order_by(s.at)
        ):
            out[r.line_id] = r.node_code
        return out

    async def list_cases(
        self,
        *,
        order_id: str | None,
        channel: str | None,
        kind: str | None,
        state: str | None,
        limit: int,
        offset: int,
    ) -> tuple[list[dict[str, Any]], int]:
        """Newest first (creation time, then case id)."""
        conds = []
        for col, value in (("order_id", order_id), ("channel", channel), ("kind", kind), ("state", state)):
            if value is not None:
                conds.append(C[col] == value)
        q = select(aftersales_cases).where(*conds)
        q = q.order_by(C.created_at.desc(), C.case_id.desc()).limit(limit).offset(offset)
        items = [dict(r) for r in (await self.session.execute(q)).mappings()]
        count = select(func.count()).select_from(aftersales_cases).where(*conds)
        return items, (await self.session.execute(count)).scalar_one()
