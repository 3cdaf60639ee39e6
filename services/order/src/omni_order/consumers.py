"""Kafka subscribers: thin. The chassis decodes, dedupes (inbox claim) and opens the unit of work; each
handler hands its batch to a use case."""

from __future__ import annotations

from typing import Any

from omni_chassis.consumer import ConsumerSpec
from omni_chassis.uow import UnitOfWork
from omni_contracts import Envelope, Topic

from . import service
from .service import carrier_trace, pickup_expiry

PRODUCT_EVENTS = set(service.PRODUCT_EVENTS)
CHANNEL_ORDER_EVENTS = {"channel.order.received"}
FULFILLMENT_EVENTS = set(service.FULFILLMENT_EVENTS)


async def on_products(uow: UnitOfWork[Any], envs: list[Envelope[Any]]) -> None:
    await service.project_catalog(uow, envs)


async def on_channel_orders(uow: UnitOfWork[Any], envs: list[Envelope[Any]]) -> None:
    await service.intake(uow, envs)


async def on_fulfillment(uow: UnitOfWork[Any], envs: list[Envelope[Any]]) -> None:
    await service.follow_fulfillment(uow, envs)
    await carrier_trace.record_carrier_choices(uow, envs)  # fulfillment.carrier-chosen: trace rows only
    await pickup_expiry.on_pickups_expired(uow, envs)  # a store pickup not collected: cancel, refund due


def catalog_spec() -> ConsumerSpec:
    return ConsumerSpec(
        group="order-catalog", topics=[Topic.PRODUCT], batch_handler=on_products, event_types=PRODUCT_EVENTS
    )


def intake_spec() -> ConsumerSpec:
    return ConsumerSpec(
        group="order",
        topics=[Topic.CHANNEL_ORDERS],
        batch_handler=on_channel_orders,
        event_types=CHANNEL_ORDER_EVENTS,
    )


def fulfillment_spec() -> ConsumerSpec:
    """Fulfillment's events (service/follow.py): sourcing, allocation, shipments, completion, the sourcing
    trace, and the units a partial refund before shipment took off a task (service/intercept.py)."""
    return ConsumerSpec(
        group="order-fulfillment",
        topics=[Topic.FULFILLMENT],
        batch_handler=on_fulfillment,
        event_types=FULFILLMENT_EVENTS | carrier_trace.EVENTS | pickup_expiry.EVENTS,
    )


async def on_writeback_refused(uow: UnitOfWork[Any], envs: list[Envelope[Any]]) -> None:
    await service.record_writeback_refusals(uow, envs)


def writeback_spec() -> ConsumerSpec:
    """A platform's refusal of a shipment write-back, kept on the order (its own group: intake's batches
    are channel orders only)."""
    return ConsumerSpec(
        group="order-writeback",
        topics=[Topic.CHANNEL_ORDERS],
        batch_handler=on_writeback_refused,
        event_types={"channel.shipment-writeback.refused"},
    )


async def on_stock(uow: UnitOfWork[Any], envs: list[Envelope[Any]]) -> None:
    await service.project_stock(uow, envs)  # what gifts check their stock against
    await service.resource_backorders(uow, envs)


def stock_spec() -> ConsumerSpec:
    """Receipts and transfers-in re-source the backorders waiting for their material, and the available
    quantity per node is kept for gifts' stock fallback (its own group: the hot stock stream)."""
    return ConsumerSpec(
        group="order-stock",
        topics=[Topic.STOCK_CHANGED],
        batch_handler=on_stock,
        event_types=set(service.STOCK_EVENTS),
    )


async def on_aftersales(uow: UnitOfWork[Any], env: Envelope[Any]) -> None:
    await service.apply_channel_aftersales(uow, env)


def aftersales_spec() -> ConsumerSpec:
    """Platform refunds and closures (service/aftersales.py), one event per transaction: an event whose
    order has not arrived yet is parked (WaitingFor) on its own, never dropped."""
    return ConsumerSpec(
        group="order-aftersales",
        topics=[Topic.CHANNEL_ORDERS],
        handler=on_aftersales,
        event_types=set(service.AFTERSALES_EVENTS),
    )


def specs() -> list[ConsumerSpec]:
    return [
        catalog_spec(),
        intake_spec(),
        fulfillment_spec(),
        writeback_spec(),
        stock_spec(),
        aftersales_spec(),
    ]
