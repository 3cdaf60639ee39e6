"""Kafka subscribers: thin. The chassis decodes, dedupes (inbox) and commits; these call the service.

Four batch consumers (one unit of work per poll), each with its own group and so its own DLQ:
`inventory-fulfillment` on omni.fulfillment (reservations, shipments, and the units a partial refund
before shipment took off a task: service/intercepts.py, and the units a store gave back:
service/task_releases.py) and `inventory-orders` on omni.order
(cancellations release reservations; after-sales returns put goods back into stock, service/returns.py);
and `inventory-listings` (layer 4: service/listings.py) on its own stock-changed stream, product's listings
and sales products, and fulfillment's nodes, which keeps every listing's sellable quantity current; and
`inventory-store-sales` on omni.channel.orders: store sales and till returns (service/store_sales.py) take
goods out of and back into a store node's stock. (Until migration inventory0003 both were the group
`inventory`; that migration carries its inbox over to the new names.)
A domain refusal that retrying cannot fix (a shipment against an unknown or released reservation) becomes
a PermanentError: the chassis retries the batch's messages one by one and dead-letters that message alone.
"""

from __future__ import annotations

from typing import Any

from omni_chassis.consumer import ConsumerSpec, PermanentError
from omni_contracts import Envelope, Topic

from . import service
from .domain.model import InventoryError
from .service import listings, store_sales

FULFILLMENT_GROUP = "inventory-fulfillment"
ORDERS_GROUP = "inventory-orders"
OLD_GROUP = "inventory"  # both consumers' group before inventory0003

FULFILLMENT_EVENTS = {
    "fulfillment.reservation-requested",
    "fulfillment.shipped",
    "fulfillment.picked-up",
    "fulfillment.order-unfulfillable",
    "fulfillment.lines-intercepted",  # a partial refund before shipment: release those units (intercepts.py)
    # a store gave a task's units back (rejected, not accepted in time, pickup not collected): release them,
    # and zero what it said it has none of (task_releases.py)
    "fulfillment.task-rejected",
    "fulfillment.task-reassigned",
    "fulfillment.pickup-expired",
}
ORDER_EVENTS = {"order.cancelled", "order.return-received"}
LISTINGS_GROUP = "inventory-listings"
LISTING_EVENTS = {
    "inventory.stock-changed",
    "product.channel-listing.upserted",
    "product.sales-product.upserted",
    "fulfillment.node.upserted",
}
STORE_SALES_GROUP = "inventory-store-sales"


async def on_batch(uow: service.Uow, envs: list[Envelope[Any]]) -> None:
    try:
        await service.handle_batch(uow, envs)
    except InventoryError as exc:
        raise PermanentError(str(exc)) from exc


async def on_store_sales(uow: service.Uow, envs: list[Envelope[Any]]) -> None:
    try:
        await store_sales.handle_batch(uow, envs)
    except InventoryError as exc:
        raise PermanentError(str(exc)) from exc


def specs() -> list[ConsumerSpec]:
    return [
        ConsumerSpec(
            FULFILLMENT_GROUP, [Topic.FULFILLMENT], batch_handler=on_batch, event_types=FULFILLMENT_EVENTS
        ),
        ConsumerSpec(ORDERS_GROUP, [Topic.ORDER], batch_handler=on_batch, event_types=ORDER_EVENTS),
        ConsumerSpec(
            LISTINGS_GROUP,
            [Topic.STOCK_CHANGED, Topic.PRODUCT, Topic.FULFILLMENT],
            batch_handler=listings.handle_batch,
            event_types=LISTING_EVENTS,
        ),
        ConsumerSpec(
            STORE_SALES_GROUP,
            [Topic.CHANNEL_ORDERS],
            batch_handler=on_store_sales,
            event_types=store_sales.STORE_SALE_EVENTS,
        ),
    ]
