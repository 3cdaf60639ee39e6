"""Kafka subscribers: thin. The chassis decodes, dedupes (inbox), runs the handler in a unit of work and
commits; the handlers are the use cases themselves.

Three groups, so that no stream holds back another:
- `finance-orders` on omni.order: order.accepted (sale voucher; releases what waits for the order),
  order.cancelled (reversal);
- `finance-shipments` on omni.fulfillment: fulfillment.shipped / fulfillment.picked-up (revenue). A shipment
  whose order finance has not booked yet is parked until order.accepted arrives (service.py), never retried
  against the clock or dead-lettered for it. fulfillment.carrier-chosen (the task's choice in force) joins it:
  a shipped parcel's freight is booked from it (service_freight.py);
- `finance-store-sales` on omni.channel.orders: channel.store-sale.recorded / channel.store-return.recorded,
  booked at once (service_store_sales.py).
"""

from __future__ import annotations

from omni_chassis.consumer import ConsumerSpec
from omni_contracts import Topic

from . import service, service_freight, service_store_sales

ORDERS_GROUP = "finance-orders"
SHIPMENTS_GROUP = "finance-shipments"
STORE_SALES_GROUP = "finance-store-sales"


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
            event_types={*service.SHIPMENT_EVENTS, *service_freight.CARRIER_EVENTS},
        ),
        ConsumerSpec(
            group=STORE_SALES_GROUP,
            topics=[Topic.CHANNEL_ORDERS],
            batch_handler=service_store_sales.handle_store_sales,
            event_types=set(service_store_sales.STORE_SALE_EVENTS),
        ),
    ]
