"""Shipment write-back use cases, each in one short unit of work (never open across a platform call):

- `on_order_accepted` (consumer `channel-orders`, omni.order): which platform order an Omni order is; a
  write-back that waited for it is due now;
- `on_shipped` (consumer `channel-shipments`, omni.fulfillment): a shipped task's write-back, due now (or
  `waiting` for its order's `order.accepted`, which may arrive later: the topics are read independently);
- `claim_writebacks` / `finish_writeback` (the worker: a refusal publishes `channel.shipment-writeback.
  refused` in the unit of work that records it, for the order service to show); `retry_writeback`,
  `list_writebacks`,
  `writeback_of` (REST).

The facts come from the events that carry them: `fulfillment.shipped` carries the task, the order id, the
carrier and the tracking number; `order.accepted` the order's channel, shop and platform order id. Nothing
new needed carrying.
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
from ..domain.writeback import Shipment, State, Transition, after_answer, not_sent, unsupported
from ..store import ShopCredentials
from .claim_loop import Backoff
from .orders import Uow

log = get_logger(__name__)
Wake = Callable[[], None]


async def on_order_accepted(
    uow: Uow, env: Envelope[OrderAcceptedV1], *, now: datetime, wake: Wake | None
) -> int:
    d = env.data
    async with uow:
        await uow.repo.lock_order(d.order_id)
        released = await uow.repo.put_order_ref(
            order_id=d.order_id,
            channel=d.channel,
            shop_id=d.shop_id,
            channel_order_id=d.channel_order_id,
            now=now,
        )
        if released and wake is not None:
            uow.on_commit(wake)
    if released:
        log.info(
            "shipment write-backs released: their order arrived", order_id=d.order_id, writebacks=released
        )
    return released


async def on_shipped(uow: Uow, env: Envelope[ShippedV1], *, now: datetime, wake: Wake | None) -> bool:
    """Record the shipped task's write-back (once per task). True: it is new."""
    d = env.data
    async with uow:
        await uow.repo.lock_order(d.order_id)  # serialized with the order's order.accepted
        ref = await uow.repo.order_ref(d.order_id)
        row: dict[str, Any] = {
            "writeback_id": d.task_id,
            "order_id": d.order_id,
            "carrier": d.carrier,
            "tracking_no": d.tracking_no,
            "shipped_at": d.shipped_at,
            "state": State.PENDING.value if ref else State.WAITING.value,
            "next_attempt_at": now if ref else None,
            "last_error": None if ref else "waiting for the order's order.accepted (its platform order)",
        }
        if ref:
            row.update(
                channel=ref["channel"], shop_id=ref["shop_id"], channel_order_id=ref["channel_order_id"]
            )
        new = await uow.repo.add_writeback(row, now)
        if new and ref and wake is not None:
            uow.on_commit(wake)
    log.info("shipment write-back recorded", writeback_id=d.task_id, order_id=d.order_id, new=new,
             state=row["state"])  # fmt: skip
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
        sent = await uow.repo.parcel_sent_before(shipment.order_id, shipment.writeback_id)
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
