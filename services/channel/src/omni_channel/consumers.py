"""Kafka subscribers: thin. The chassis decodes, dedupes and commits; these call the service.

- `channel-stock` on omni.inventory.listing-stock: `inventory.listing-stock-changed` keeps each listing's
  newest sellable quantity and makes its push due; the push worker is woken after the commit (the push
  itself never runs in the consumer: a platform outage never holds back the stream).
- `channel-pos-listings` on omni.product: the `pos` channel's listings, which the POS intake resolves a
  till's products to sales products by (service/pos.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from omni_chassis.consumer import ConsumerSpec
from omni_contracts import Envelope, Topic, utcnow

from . import service
from .consumers_writeback import specs as writeback_specs
from .service import pos as pos_service

STOCK_GROUP = "channel-stock"
STOCK_EVENTS = {"inventory.listing-stock-changed"}
POS_LISTINGS_GROUP = "channel-pos-listings"
POS_LISTING_EVENTS = {"product.channel-listing.upserted"}


def specs(
    wake: Callable[[], None] | None = None, writeback_wake: Callable[[], None] | None = None
) -> list[ConsumerSpec]:
    """Every consumer group of the service: the stock push's, and the shipment write-back's
    (consumers_writeback.py). `wake` / `writeback_wake` wake their workers after a commit."""

    async def on_listing_stock(uow: service.Uow, envs: list[Envelope[Any]]) -> None:
        await service.on_listing_stock(uow, envs, now=utcnow(), wake=wake)

    return [
        ConsumerSpec(
            STOCK_GROUP, [Topic.LISTING_STOCK], batch_handler=on_listing_stock, event_types=STOCK_EVENTS
        ),
        *writeback_specs(wake=writeback_wake),
        ConsumerSpec(
            POS_LISTINGS_GROUP,
            [Topic.PRODUCT],
            batch_handler=pos_service.project_listings,
            event_types=POS_LISTING_EVENTS,
        ),
    ]
