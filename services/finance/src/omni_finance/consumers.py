"""Kafka subscribers: thin. The chassis decodes, dedupes and commits; these call the service.

Two groups, so that a shipment waiting for its order (retried, then dead-lettered) never holds back the
order stream that will bring that order:
- `finance-orders` on omni.order: order.accepted (sale voucher), order.cancelled (reversal);
- `finance-shipments` on omni.fulfillment: fulfillment.shipped / fulfillment.picked-up (revenue).
"""

from __future__ import annotations

from omni_chassis.consumer import ConsumerSpec
from omni_chassis.uow import with_session
from omni_contracts import Topic

from . import service

ORDERS_GROUP = "finance-orders"
SHIPMENTS_GROUP = "finance-shipments"


def specs() -> list[ConsumerSpec]:
    return [
        ConsumerSpec(
            group=ORDERS_GROUP,
            topics=[Topic.ORDER],
            batch_handler=with_session(service.handle_order_events),
            event_types=set(service.ORDER_EVENTS),
        ),
        ConsumerSpec(
            group=SHIPMENTS_GROUP,
            topics=[Topic.FULFILLMENT],
            batch_handler=with_session(service.handle_shipments),
            event_types=set(service.SHIPMENT_EVENTS),
        ),
    ]
