"""Kafka subscribers: thin. The chassis decodes, dedupes (inbox), runs the handler in a unit of work and
commits; the handlers are the use cases themselves.

Two groups, so that neither stream holds back the other:
- `finance-orders` on omni.order: order.accepted (sale voucher; releases what waits for the order),
  order.cancelled (reversal);
- `finance-shipments` on omni.fulfillment: fulfillment.shipped / fulfillment.picked-up (revenue). A shipment
  whose order finance has not booked yet is parked until order.accepted arrives (service.py), never retried
  against the clock or dead-lettered for it.
"""

from __future__ import annotations

from omni_chassis.consumer import ConsumerSpec
from omni_contracts import Topic

from . import service

ORDERS_GROUP = "finance-orders"
SHIPMENTS_GROUP = "finance-shipments"


def specs() -> list[ConsumerSpec]:
    return [
        ConsumerSpec(
            group=ORDERS_GROUP,
            topics=[Topic.ORDER],
            batch_handler=service.handle_order_events,
            event_types=set(service.ORDER_EVENTS),
        ),
        ConsumerSpec(
            group=SHIPMENTS_GROUP,
            topics=[Topic.FULFILLMENT],
            batch_handler=service.handle_shipments,
            event_types=set(service.SHIPMENT_EVENTS),
        ),
    ]
