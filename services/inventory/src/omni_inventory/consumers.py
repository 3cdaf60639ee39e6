"""Kafka subscribers: thin. The chassis decodes, dedupes and commits; these call the service.

Both are batch consumers (one transaction per poll). A domain refusal that retrying cannot fix (a shipment
against an unknown or released reservation) becomes a PermanentError: the chassis retries the batch's
messages one by one and dead-letters that message alone.
"""

from __future__ import annotations

from typing import Any

from omni_chassis.consumer import ConsumerSpec, PermanentError
from omni_chassis.uow import UnitOfWork
from omni_contracts import Envelope, Topic

from . import service
from .domain.model import InventoryError

GROUP = "inventory"

FULFILLMENT_EVENTS = {
    "fulfillment.reservation-requested",
    "fulfillment.shipped",
    "fulfillment.picked-up",
    "fulfillment.order-unfulfillable",
}
ORDER_EVENTS = {"order.cancelled"}


async def on_batch(uow: UnitOfWork[Any], envs: list[Envelope[Any]]) -> None:
    try:
        await service.handle_batch(uow.session, envs)
    except InventoryError as exc:
        raise PermanentError(str(exc)) from exc


def specs() -> list[ConsumerSpec]:
    return [
        ConsumerSpec(GROUP, [Topic.FULFILLMENT], batch_handler=on_batch, event_types=FULFILLMENT_EVENTS),
        ConsumerSpec(GROUP, [Topic.ORDER], batch_handler=on_batch, event_types=ORDER_EVENTS),
    ]
