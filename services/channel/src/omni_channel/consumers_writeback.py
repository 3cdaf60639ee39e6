"""Kafka subscribers of the shipment write-back: thin (the chassis decodes, dedupes and commits).

- `channel-orders` on omni.order: `order.accepted` says which platform order an Omni order is;
- `channel-shipments` on omni.fulfillment: `fulfillment.shipped` (v1 and v2, read as v1) makes the task's
  write-back due. The call itself never runs in the consumer: the write-back worker is woken after the
  commit, so a platform outage never holds back the stream. The same group reads
  `fulfillment.pickup-code-issued`, the buyer's pickup-code message (service/buyer_messages.py: composed
  and logged, masked, until a platform's messaging is wired).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from omni_chassis.consumer import ConsumerSpec
from omni_contracts import Envelope, Topic, utcnow

from .service import buyer_messages, writeback

ORDERS_GROUP = "channel-orders"
SHIPMENTS_GROUP = "channel-shipments"


def specs(wake: Callable[[], None] | None = None) -> list[ConsumerSpec]:
    async def on_order(uow: Any, env: Envelope[Any]) -> None:
        await writeback.on_order_accepted(uow, env, now=utcnow(), wake=wake)

    async def on_shipped(uow: Any, env: Envelope[Any]) -> None:
        if env.event_type == buyer_messages.PICKUP_CODE:
            await buyer_messages.on_pickup_code(uow, env)
            return
        await writeback.on_shipped(uow, env, now=utcnow(), wake=wake)

    return [
        ConsumerSpec(ORDERS_GROUP, [Topic.ORDER], handler=on_order, event_types={"order.accepted"}),
        ConsumerSpec(
            SHIPMENTS_GROUP,
            [Topic.FULFILLMENT],
            handler=on_shipped,
            event_types={"fulfillment.shipped", *buyer_messages.EVENTS},
        ),
    ]
