"""The after-sales dedupe and outbox path: an event is staged only when its (channel, refund id, status) —
or, for a close, its (channel, order id), whatever the close status: the first close wins — is new; a repeat
bumps the delivery count and publishes nothing."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert

from omni_chassis.logging import get_logger
from omni_chassis.uow import UnitOfWork
from omni_contracts.events.channel import (
    ChannelOrderClosedV1,
    ChannelRefundReceivedV1,
    channel_order_key,
)

from ..store import Repository
from ..tables_aftersales import received_after_sales as t

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
    s = uow.repo.session
    pk = (t.c.channel == event.channel) & (t.c.kind == kind) & (t.c.ref_id == ref)
    if kind == "refund":
        pk = pk & (t.c.channel_status == event.channel_status)
    placeholder = uuid.uuid4()
    stmt = (
        insert(t)
        .values(
            channel=event.channel,
            kind=kind,
            ref_id=ref,
            channel_status=event.channel_status,
            shop_id=event.shop_id,
            channel_order_id=event.channel_order_id,
            event_id=placeholder,
            deliveries=1,
            received_at=now,
            last_received_at=now,
        )
        .returning(t.c.ref_id)
    )
    if kind == "refund":
        stmt = stmt.on_conflict_do_nothing(constraint="received_after_sales_pk")
    else:  # one close per order (received_after_sales_close_once)
        stmt = stmt.on_conflict_do_nothing(
            index_elements=["channel", "ref_id"], index_where=t.c.kind == "close"
        )
    inserted = (await s.execute(stmt)).first() is not None
    if not inserted:
        row = (
            await s.execute(
                update(t)
                .where(pk)
                .values(deliveries=t.c.deliveries + 1, last_received_at=now)
                .returning(t.c.event_id, t.c.deliveries, t.c.channel_status)
            )
        ).one()
        log.debug("after-sale repeat", channel=event.channel, kind=kind, deliveries=row.deliveries)
        return AfterSaleReceipt(
            False, event.channel_order_id, ref, row.channel_status, str(row.event_id), row.deliveries
        )
    env = uow.emit(event, key=channel_order_key(event.channel, event.channel_order_id))
    await s.execute(update(t).where(pk).values(event_id=env.event_id))
    log.debug("after-sale published", channel=event.channel, kind=kind, event_id=str(env.event_id))
    return AfterSaleReceipt(True, event.channel_order_id, ref, event.channel_status, str(env.event_id), 1)


async def deliveries(uow: Uow, channel: str, kind: str, ref_id: str) -> list[tuple[str, int]]:
    rows = await uow.repo.session.execute(
        select(t.c.channel_status, t.c.deliveries).where(
            (t.c.channel == channel) & (t.c.kind == kind) & (t.c.ref_id == ref_id)
        )
    )
    return [(r.channel_status, r.deliveries) for r in rows]


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
