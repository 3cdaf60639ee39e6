"""The received after-sales' SQL (part of the repository, see store.py): the dedupe rows (a refund's per
status, a close's per order), the list, and one refund's or close's rows with their delivery counts."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from omni_chassis.sqlpage import matching, page_of

from .tables_aftersales import received_after_sales

A = received_after_sales.c


def _key(channel: str, kind: str, ref_id: str, status: str | None) -> ColumnElement[bool]:
    key = (A.channel == channel) & (A.kind == kind) & (A.ref_id == ref_id)
    return key & (A.channel_status == status) if status is not None else key


class AfterSalesQueries:
    session: AsyncSession

    async def insert_after_sale(
        self, *, channel: str, kind: str, ref_id: str, channel_status: str, shop_id: str,
        channel_order_id: str, placeholder: uuid.UUID, now: datetime,
    ) -> bool:  # fmt: skip
        """The row of a new refund status or a new close; False when it is there already."""
        row = {"channel": channel, "kind": kind, "ref_id": ref_id, "channel_status": channel_status,
               "shop_id": shop_id, "channel_order_id": channel_order_id, "event_id": placeholder,
               "deliveries": 1, "received_at": now, "last_received_at": now}  # fmt: skip
        stmt = insert(received_after_sales).values(**row).returning(A.ref_id)
        if kind == "refund":
            stmt = stmt.on_conflict_do_nothing(constraint="received_after_sales_pk")
        else:  # one close per order, whatever its status (received_after_sales_close_once)
            stmt = stmt.on_conflict_do_nothing(
                index_elements=["channel", "ref_id"], index_where=A.kind == "close"
            )
        return (await self.session.execute(stmt)).first() is not None

    async def repeat_after_sale(
        self, channel: str, kind: str, ref_id: str, status: str | None, now: datetime
    ) -> tuple[uuid.UUID, int, str]:
        """Count one more delivery; (its event id, the deliveries, the status it was first received in)."""
        row = (
            await self.session.execute(
                update(received_after_sales)
                .where(_key(channel, kind, ref_id, status))
                .values(deliveries=A.deliveries + 1, last_received_at=now)
                .returning(A.event_id, A.deliveries, A.channel_status)
            )
        ).one()
        return row.event_id, row.deliveries, row.channel_status

    async def set_after_sale_event(
        self, channel: str, kind: str, ref_id: str, status: str | None, event_id: uuid.UUID
    ) -> None:
        await self.session.execute(
            update(received_after_sales).where(_key(channel, kind, ref_id, status)).values(event_id=event_id)
        )

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
