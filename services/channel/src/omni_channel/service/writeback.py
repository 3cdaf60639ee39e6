"""Shipment write-back use cases, each in one short unit of work (never open across a platform call):

- `on_order_accepted` (consumer `channel-orders`, omni.order): which platform order an Omni order is; a
  write-back that waited for it is due now;
- `on_shipped` (consumer `channel-shipments`, omni.fulfillment): a shipped task's write-backs, due now (or
  one `waiting` for its order's `order.accepted`, which may arrive later: the topics are read
  independently; a merged order's then becomes one per source);
- `claim_writebacks` / `finish_writeback` (the worker: a refusal publishes `channel.shipment-writeback.
  refused` in the unit of work that records it, for the order service to show); `retry_writeback`,
  `list_writebacks`,
  `writeback_of` (REST).

The facts come from the events that carry them: `fulfillment.shipped` carries the task, the order id, the
carrier and the tracking number; `order.accepted` the order's channel, shop and platform order id, or a
merged order's (合单) `sources`, each with its own shop and platform order id. A merged order's task is
written back to every source's platform order with the same carrier and tracking number (Tmall and JD take
one waybill on several orders): one row per source, `<task id>:<source order id>`; an order of its own keeps
writeback_id = task id.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from omni_chassis.logging import get_logger
from omni_contracts import Envelope
from omni_contracts.events.channel import ChannelShipmentWritebackRefusedV1, channel_order_key
from omni_contracts.events.fulfillment import ShippedV1
from omni_contracts.events.order import OrderAcceptedV1

from ..domain.stock_push import Answer
from ..domain.writeback import (
    Shipment,
    State,
    Transition,
    after_answer,
    not_sent,
    unsupported,
    writeback_id_for,
)
from ..store import ShopCredentials
from .claim_loop import Backoff
from .orders import Uow

log = get_logger(__name__)
Wake = Callable[[], None]
WAITING = "waiting for the order's order.accepted (its platform order)"
REF = ("channel", "shop_id", "channel_order_id", "source_order_id")  # a write-back's platform order
SHIPPED = ("task_id", "order_id", "carrier", "tracking_no", "shipped_at")  # a write-back's facts of the task


def refs_of(d: OrderAcceptedV1) -> list[dict[str, Any]]:
    """The platform orders of an accepted order: its own, or each source's of a merged order."""
    if not d.sources:
        return [{"channel": d.channel, "shop_id": d.shop_id, "channel_order_id": d.channel_order_id,
                 "source_order_id": None}]  # fmt: skip
    return [{"channel": d.channel, "shop_id": s.shop_id, "channel_order_id": s.channel_order_id,
             "source_order_id": s.order_id} for s in d.sources]  # fmt: skip


def _due_row(shipped: dict[str, Any], ref: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The write-back of a shipped task (`shipped`: task_id, order_id, carrier, tracking_no, shipped_at) to
    one platform order, due now."""
    where = {k: ref[k] for k in REF}
    return {**shipped, **where, "writeback_id": writeback_id_for(shipped["task_id"], ref["source_order_id"]),
            "state": State.PENDING.value, "next_attempt_at": now, "last_error": None}  # fmt: skip


async def on_order_accepted(
    uow: Uow, env: Envelope[OrderAcceptedV1], *, now: datetime, wake: Wake | None
) -> int:
    """Record the order's platform orders; the write-backs that waited for them are due now (a merged
    order's waiting task becomes one write-back per source). Returns how many became due."""
    d = env.data
    released = 0
    async with uow:
        await uow.repo.lock_order(d.order_id)
        for ref in refs_of(d):
            await uow.repo.put_order_ref(order_id=d.order_id, **ref, now=now)
        refs = await uow.repo.order_refs(d.order_id)  # what is kept (a repeat keeps the first)
        for waiting in await uow.repo.waiting_writebacks(d.order_id):
            rows = [_due_row({k: waiting[k] for k in SHIPPED}, ref, now) for ref in refs]
            for row in rows:
                if row["writeback_id"] == waiting["writeback_id"]:  # an order of its own: the same row
                    await uow.repo.release_writeback(row["writeback_id"], row, now)
                    released += 1
                elif await uow.repo.add_writeback(row, now):
                    released += 1
            if waiting["writeback_id"] not in {row["writeback_id"] for row in rows}:  # merged: replaced
                await uow.repo.drop_waiting_writeback(waiting["writeback_id"])
        if released and wake is not None:
            uow.on_commit(wake)
    if released:
        log.info("shipment write-backs released: their order arrived", order_id=d.order_id,
                 writebacks=released, platform_orders=len(refs))  # fmt: skip
    return released


async def on_shipped(uow: Uow, env: Envelope[ShippedV1], *, now: datetime, wake: Wake | None) -> bool:
    """Record the shipped task's write-backs: one per platform order of its order (an order of its own: one,
    id = the task id; a merged order: one per source), once. True: any is new."""
    d = env.data
    shipped = {"task_id": d.task_id, "order_id": d.order_id, "carrier": d.carrier,
               "tracking_no": d.tracking_no, "shipped_at": d.shipped_at}  # fmt: skip
    async with uow:
        await uow.repo.lock_order(d.order_id)  # serialized with the order's order.accepted
        refs = await uow.repo.order_refs(d.order_id)
        if refs:
            rows = [_due_row(shipped, ref, now) for ref in refs]
        else:  # its order.accepted has not arrived: one row, expanded per source then if it is merged
            rows = [{**shipped, "writeback_id": d.task_id, "state": State.WAITING.value,
                     "next_attempt_at": None, "last_error": WAITING}]  # fmt: skip
        added = [await uow.repo.add_writeback(row, now) for row in rows]
        new = any(added)
        if new and refs and wake is not None:
            uow.on_commit(wake)
    log.info("shipment write-back recorded", task_id=d.task_id, order_id=d.order_id, new=sum(added),
             platform_orders=len(refs), state=rows[0]["state"])  # fmt: skip
    return new


async def claim_writebacks(
    uow: Uow, *, now: datetime, limit: int, lease_s: float
) -> list[tuple[Shipment, ShopCredentials | None]]:
    async with uow:
        claims = await uow.repo.claim_due_writebacks(
            now=now, lease_until=now + timedelta(seconds=lease_s), limit=limit, token=uuid.uuid4().hex
        )
        shops = await uow.repo.shops_credentials([(c.channel, c.shop_id) for c in claims])
    return [(c, shops.get((c.channel, c.shop_id))) for c in claims]


async def finish_writeback(
    uow: Uow,
    shipment: Shipment,
    answer: Answer | None,
    *,
    company_code: str | None,
    now: datetime,
    backoff: Backoff = Backoff(),
    held: Transition | None = None,
) -> Transition | None:
    """Record the platform's answer (None: no write-back for the channel; `held`: not sent, and why).
    None: the claim was lost."""
    async with uow:
        if not await uow.repo.lock_claimed_writeback(shipment.writeback_id, shipment.token):
            log.warning("write-back claim lost (lease expired)", writeback_id=shipment.writeback_id)
            return None
        if held is not None:
            t, detail = held, {}
        elif answer is None:
            t, detail = unsupported(shipment.channel), {}
        else:
            t = after_answer(answer, shipment.attempts, now, backoff_first_s=backoff.first_s,
                             backoff_max_s=backoff.max_s)  # fmt: skip
            detail = {"code": answer.code, "sub_code": answer.sub_code}
        await uow.repo.finish_writeback(
            shipment.writeback_id, t, {**detail, "company_code": company_code}, now
        )
        if t.state is State.REFUSED:  # shown on the order (the order service keeps it): same commit
            uow.emit(refused_event(shipment, company_code, t.last_error or "", now),
                     key=channel_order_key(shipment.channel, shipment.channel_order_id))  # fmt: skip
    if t.state in (State.REFUSED, State.CREDENTIALS, State.UNSUPPORTED):
        log.info("shipment write-back held", writeback_id=shipment.writeback_id, order_id=shipment.order_id,
                 channel=shipment.channel, state=t.state.value, reason=t.last_error)  # fmt: skip
    return t


def refused_event(
    shipment: Shipment, company_code: str | None, reason: str, now: datetime
) -> ChannelShipmentWritebackRefusedV1:
    return ChannelShipmentWritebackRefusedV1(
        order_id=shipment.order_id, writeback_id=shipment.writeback_id, channel=shipment.channel,
        shop_id=shipment.shop_id, channel_order_id=shipment.channel_order_id, carrier=shipment.carrier,
        company_code=company_code, tracking_no=shipment.tracking_no, reason=reason[:2000], refused_at=now,
    )  # fmt: skip


async def held_parcel(uow: Uow, shipment: Shipment, *, splits: bool) -> Transition | None:
    """A later parcel of an order already written back is not sent (the platform takes one tracking
    number per order; a split parcel's lines are not carried yet): the transition that holds it, or None."""
    if shipment.split:
        return None
    async with uow:
        sent = await uow.repo.parcel_sent_before(
            shipment.order_id, shipment.channel_order_id, shipment.writeback_id
        )
    return not_sent(shipment.channel, sent, splits) if sent else None


async def next_writeback_due_at(uow: Uow) -> datetime | None:
    async with uow:
        return await uow.repo.next_writeback_due_at()


async def retry_writeback(uow: Uow, writeback_id: str, *, now: datetime, wake: Wake | None) -> str | None:
    """Make it due now. Returns the state it had (`waiting`: unchanged), or None: no such write-back."""
    async with uow:
        before = await uow.repo.retry_writeback(writeback_id, now)
        if before not in (None, "waiting") and wake is not None:
            uow.on_commit(wake)
    if before is not None:
        log.info("shipment write-back retry requested", writeback_id=writeback_id, state_before=before)
    return before


async def list_writebacks(
    uow: Uow, *, filters: dict[str, str | None], limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    async with uow:
        return await uow.repo.list_writebacks(filters=filters, limit=limit, offset=offset)


async def writeback_of(uow: Uow, writeback_id: str) -> dict[str, Any] | None:
    async with uow:
        return await uow.repo.get_writeback(writeback_id)
