"""The after-sales dedupe and outbox path: an event is staged only when its (channel, refund id, status) —
or, for a close, its (channel, order id), whatever the close status: the first close wins — is new; a repeat
bumps the delivery count and publishes nothing."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from omni_chassis.logging import get_logger
from omni_chassis.uow import UnitOfWork
from omni_contracts.events.channel import (
    ChannelOrderClosedV1,
    ChannelRefundReceivedV1,
    channel_order_key,
)

from ..store import Repository

log = get_logger(__name__)
Uow = UnitOfWork[Repository]


@dataclass(frozen=True)
class AfterSaleReceipt:
    published: bool
    channel_order_id: str
    ref_id: str
    channel_status: str
    event_id: str
    deliveries: int


async def record(
    uow: Uow, event: ChannelRefundReceivedV1 | ChannelOrderClosedV1, now: datetime
) -> AfterSaleReceipt:
    if isinstance(event, ChannelRefundReceivedV1):
        kind, ref = "refund", event.channel_refund_id
    else:
        kind, ref = "close", event.channel_order_id
    repo = uow.repo
    new = await repo.insert_after_sale(
        channel=event.channel, kind=kind, ref_id=ref, channel_status=event.channel_status,
        shop_id=event.shop_id, channel_order_id=event.channel_order_id, placeholder=uuid.uuid4(), now=now,
    )  # fmt: skip
    # a refund's repeat is of the same status; a close's of any (the first close wins)
    status = event.channel_status if kind == "refund" else None
    if not new:
        event_id, deliveries, first = await repo.repeat_after_sale(event.channel, kind, ref, status, now)
        log.debug("after-sale repeat", channel=event.channel, kind=kind, deliveries=deliveries)
        return AfterSaleReceipt(False, event.channel_order_id, ref, first, str(event_id), deliveries)
    env = uow.emit(event, key=channel_order_key(event.channel, event.channel_order_id))
    await repo.set_after_sale_event(event.channel, kind, ref, status, env.event_id)
    log.debug("after-sale published", channel=event.channel, kind=kind, event_id=str(env.event_id))
    return AfterSaleReceipt(True, event.channel_order_id, ref, event.channel_status, str(env.event_id), 1)


async def record_tmall_close(uow: Uow, doc: object, outcome: object, shop_id: str, now: datetime) -> None:
    """A Tmall trade push whose status is a close (TRADE_CLOSED, TRADE_CLOSED_BY_TAOBAO) publishes
    `channel.order.closed` once per order; other statuses do nothing here."""
    from ..domain.aftersales_tmall import closed_trade
    from ..domain.tmall import NotForFulfilment
    from ..domain.tmall import _unwrap as unwrap_trade

    if not isinstance(outcome, NotForFulfilment):
        return
    event = closed_trade(
        unwrap_trade(doc), outcome.channel_order_id, outcome.channel_status, shop_id=shop_id, received_at=now
    )
    if event is not None:
        await record(uow, event, now)
