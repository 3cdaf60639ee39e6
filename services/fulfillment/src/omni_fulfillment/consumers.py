"""Kafka subscribers: thin. The chassis decodes, dedupes (inbox) and commits; these call the use cases,
each given the chassis' unit of work (`uow.repo` is a `store.Repository`).

One consumer group per stream, so that the hot stock stream never holds back (or rebalances) the order flow
and a message dead-lettered on one stream says which one:
- `fulfillment-orders` on omni.order: order.accepted (source it), order.refund-approved (a partial refund
  before shipment: take its units off the tasks), order.cancelled (stop it);
- `fulfillment-reservations` on omni.inventory: inventory.reserved / inventory.reservation-refused;
- `fulfillment-stock` on omni.inventory.stock-changed: the stock-per-node projection.
All are batch consumers (one transaction per poll).
"""

from __future__ import annotations

from typing import Any

from omni_chassis.consumer import ConsumerSpec
from omni_contracts import Envelope, Topic

from . import consumers_carriers, service

ORDERS_GROUP = "fulfillment-orders"
RESERVATIONS_GROUP = "fulfillment-reservations"
STOCK_GROUP = "fulfillment-stock"
ORDER_EVENTS = {"order.accepted", "order.refund-approved", "order.cancelled"}
REPLY_EVENTS = {"inventory.reserved", "inventory.reservation-refused"}
STOCK_EVENTS = {"inventory.stock-changed"}


def specs(max_attempts: int = service.DEFAULT_MAX_ATTEMPTS) -> list[ConsumerSpec]:
    async def on_replies(uow: service.Uow, envs: list[Envelope[Any]]) -> None:
        await service.on_reservation_replies(uow, envs, max_attempts=max_attempts)

    return [
        ConsumerSpec(
            ORDERS_GROUP, [Topic.ORDER], batch_handler=service.on_order_events, event_types=ORDER_EVENTS
        ),
        ConsumerSpec(
            RESERVATIONS_GROUP, [Topic.INVENTORY], batch_handler=on_replies, event_types=REPLY_EVENTS
        ),
        ConsumerSpec(
            STOCK_GROUP,
            [Topic.STOCK_CHANGED],
            batch_handler=service.on_stock_changed,
            event_types=STOCK_EVENTS,
        ),
        *consumers_carriers.specs(),  # carrier routing's own groups (consumers_carriers.py)
    ]
