"""The shipment write-backs' SQL (part of the repository, see store.py): claimed like the stock push
(store_push.py), short transactions with `FOR UPDATE SKIP LOCKED` and a lease."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from .domain.writeback import Shipment, Transition
from .tables import channel_order_refs, shipment_writebacks

_CLAIM = text(
    "WITH due AS (SELECT writeback_id FROM shipment_writebacks WHERE next_attempt_at <= :now "
    "AND (claimed_until IS NULL OR claimed_until < :now) ORDER BY next_attempt_at LIMIT :limit "
    "FOR UPDATE SKIP LOCKED) "
    "UPDATE shipment_writebacks w SET claim_token = :token, claimed_until = :lease FROM due "
    "WHERE w.writeback_id = due.writeback_id RETURNING w.writeback_id, w.order_id, w.channel, w.shop_id, "
    "w.channel_order_id, w.carrier, w.tracking_no, w.attempts"
)
_NEXT_DUE = text(
    "SELECT min(GREATEST(next_attempt_at, COALESCE(claimed_until, next_attempt_at))) "
    "FROM shipment_writebacks WHERE next_attempt_at IS NOT NULL"
)
VIEW = tuple(c for c in shipment_writebacks.c if c.name != "claim_token")
W = shipment_writebacks.c


class WritebackQueries:
    session: AsyncSession

    # -- the consumers --------------------------------------------------------------------------------------
    async def lock_order(self, order_id: str) -> None:
        """Serialize an order's `order.accepted` with its shipments until the commit (the two consumers run
        side by side: without it, each could miss the other's uncommitted row and a write-back would wait
        for ever)."""
        await self.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended('channel-order:' || :o, 0))"), {"o": order_id}
        )

    async def put_order_ref(
        self,
        *,
        order_id: str,
        channel: str,
        shop_id: str,
        channel_order_id: str,
        source_order_id: str | None,
        now: datetime,
    ) -> None:
        """Record a platform order of `order_id` (a repeat keeps the first)."""
        await self.session.execute(
            insert(channel_order_refs)
            .values(order_id=order_id, channel=channel, shop_id=shop_id, channel_order_id=channel_order_id,
                    source_order_id=source_order_id, created_at=now)
            .on_conflict_do_nothing(constraint="channel_order_refs_pk")
        )  # fmt: skip

    async def order_refs(self, order_id: str) -> list[dict[str, Any]]:
        """The order's platform orders: one for an order of its own, one per source of a merged order."""
        rows = await self.session.execute(
            select(channel_order_refs)
            .where(channel_order_refs.c.order_id == order_id)
            .order_by(channel_order_refs.c.created_at, channel_order_refs.c.channel_order_id)
        )
        return [dict(r) for r in rows.mappings()]

    async def waiting_writebacks(self, order_id: str) -> list[dict[str, Any]]:
        rows = await self.session.execute(
            select(shipment_writebacks)
            .where(W.order_id == order_id, W.state == "waiting")
            .order_by(W.writeback_id)
            .with_for_update()
        )
        return [dict(r) for r in rows.mappings()]

    async def release_writeback(self, writeback_id: str, ref: dict[str, Any], now: datetime) -> None:
        """A waiting write-back learns its platform order: due now."""
        await self.session.execute(
            update(shipment_writebacks)
            .where(W.writeback_id == writeback_id, W.state == "waiting")
            .values(channel=ref["channel"], shop_id=ref["shop_id"], channel_order_id=ref["channel_order_id"],
                    source_order_id=ref["source_order_id"], state="pending", next_attempt_at=now,
                    last_error=None, updated_at=now)
        )  # fmt: skip

    async def drop_waiting_writeback(self, writeback_id: str) -> None:
        """A waiting write-back replaced by its merged order's per-source ones."""
        await self.session.execute(
            delete(shipment_writebacks).where(W.writeback_id == writeback_id, W.state == "waiting")
        )

    async def add_writeback(self, row: dict[str, Any], now: datetime) -> bool:
        """A shipped task's write-back (a repeat of the same task changes nothing). True: it is new."""
        stmt = (
            insert(shipment_writebacks)
            .values(**row, attempts=0, created_at=now, updated_at=now)
            .on_conflict_do_nothing(constraint="shipment_writebacks_pk")
            .returning(W.writeback_id)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none() is not None

    # -- the worker -----------------------------------------------------------------------------------------
    async def claim_due_writebacks(
        self, *, now: datetime, lease_until: datetime, limit: int, token: str
    ) -> list[Shipment]:
        rows = await self.session.execute(
            _CLAIM, {"now": now, "lease": lease_until, "limit": limit, "token": token}
        )
        return [
            Shipment(r.writeback_id, r.order_id, r.channel or "", r.shop_id or "", r.channel_order_id or "",
                     r.carrier, r.tracking_no, r.attempts, token)
            for r in rows
        ]  # fmt: skip

    async def lock_claimed_writeback(self, writeback_id: str, token: str) -> bool:
        found = await self.session.execute(
            select(W.writeback_id)
            .where(W.writeback_id == writeback_id, W.claim_token == token)
            .with_for_update()
        )
        return found.scalar_one_or_none() is not None

    async def finish_writeback(
        self, writeback_id: str, t: Transition, answer: dict[str, Any], now: datetime
    ) -> None:
        values: dict[str, Any] = {
            "state": t.state.value,
            "next_attempt_at": t.next_attempt_at,
            "attempts": t.attempts,
            "last_error": t.last_error,
            "code": answer.get("code"),
            "sub_code": answer.get("sub_code"),
            "last_attempt_at": now,
            "claim_token": None,
            "claimed_until": None,
            "updated_at": now,
        }
        if answer.get("company_code"):
            values["company_code"] = answer["company_code"]
        if t.acknowledged:
            values["acknowledged_at"] = now
        await self.session.execute(
            update(shipment_writebacks).where(W.writeback_id == writeback_id).values(**values)
        )

    async def parcel_sent_before(self, order_id: str, channel_order_id: str, writeback_id: str) -> str | None:
        """The tracking number of another of the order's parcels the platform already took for the same
        platform order, if any (a merged order's sources are each their own platform order)."""
        found = await self.session.execute(
            select(W.tracking_no)
            .where(
                W.order_id == order_id,
                W.channel_order_id == channel_order_id,
                W.writeback_id != writeback_id,
                W.state == "acknowledged",
            )
            .order_by(W.acknowledged_at)
            .limit(1)
        )
        return found.scalar_one_or_none()

    async def next_writeback_due_at(self) -> datetime | None:
        return (await self.session.execute(_NEXT_DUE)).scalar()

    async def release_shop_writebacks(self, channel: str, shop_id: str, now: datetime) -> int:
        """The shop's credentials changed: its write-backs that waited for them are due now."""
        result = await self.session.execute(
            update(shipment_writebacks)
            .where(W.channel == channel, W.shop_id == shop_id, W.state == "credentials")
            .values(state="pending", next_attempt_at=now, updated_at=now)
        )
        return result.rowcount  # type: ignore[attr-defined,no-any-return]

    async def retry_writeback(self, writeback_id: str, now: datetime) -> str | None:
        """Make a write-back due now (not one still waiting for its order). Returns its state before, or
        None: no such write-back."""
        before = (
            await self.session.execute(
                select(W.state).where(W.writeback_id == writeback_id).with_for_update()
            )
        ).scalar_one_or_none()
        if before is not None and before != "waiting":
            await self.session.execute(
                update(shipment_writebacks)
                .where(W.writeback_id == writeback_id)
                .values(state="pending", next_attempt_at=now, attempts=0, updated_at=now)
            )
        return before

    # -- views ----------------------------------------------------------------------------------------------
    async def list_writebacks(
        self, *, filters: dict[str, str | None], limit: int, offset: int
    ) -> tuple[list[dict[str, Any]], int]:
        conds = [W[k] == v for k, v in filters.items() if v is not None]
        total = (
            await self.session.execute(select(func.count()).select_from(shipment_writebacks).where(*conds))
        ).scalar_one()
        rows = await self.session.execute(
            select(*VIEW)
            .where(*conds)
            .order_by(W.created_at.desc(), W.writeback_id)
            .limit(limit)
            .offset(offset)
        )
        return [dict(r) for r in rows.mappings()], total

    async def get_writeback(self, writeback_id: str) -> dict[str, Any] | None:
        row = (
            (await self.session.execute(select(*VIEW).where(W.writeback_id == writeback_id)))
            .mappings()
            .one_or_none()
        )
        return dict(row) if row else None
