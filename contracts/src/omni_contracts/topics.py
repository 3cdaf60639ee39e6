"""The topic registry: one topic per aggregate stream, plus a dead-letter topic per consumer group."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

DEFAULT_PARTITIONS = 6


class Topic(StrEnum):
    PRODUCT = "omni.product"
    INVENTORY = "omni.inventory"
    ORDER = "omni.order"
    FULFILLMENT = "omni.fulfillment"
    FINANCE = "omni.finance"
    CHANNEL_ORDERS = "omni.channel.orders"
    STOCK_CHANGED = "omni.inventory.stock-changed"
    LISTING_STOCK = "omni.inventory.listing-stock"
    DIAGNOSTICS = "omni.diagnostics"


@dataclass(frozen=True)
class TopicSpec:
    name: str
    description: str
    partitions: int = DEFAULT_PARTITIONS


TOPICS: dict[Topic, TopicSpec] = {
    Topic.PRODUCT: TopicSpec(
        Topic.PRODUCT, "Product master data (PIM): materials, sales products, listings."
    ),
    Topic.INVENTORY: TopicSpec(Topic.INVENTORY, "Inventory (IVM): reservations and their outcomes."),
    Topic.ORDER: TopicSpec(Topic.ORDER, "Orders (OMS): the order aggregate's lifecycle, keyed by order id."),
    Topic.FULFILLMENT: TopicSpec(Topic.FULFILLMENT, "Fulfillment: sourcing, tasks and shipments."),
    Topic.FINANCE: TopicSpec(Topic.FINANCE, "Finance (FIN): vouchers and settlements."),
    Topic.CHANNEL_ORDERS: TopicSpec(
        Topic.CHANNEL_ORDERS, "Orders as received from channels, normalised, keyed by channel order id."
    ),
    Topic.STOCK_CHANGED: TopicSpec(
        Topic.STOCK_CHANGED, "The hot 'inventory changed' stream, keyed by node and material."
    ),
    Topic.LISTING_STOCK: TopicSpec(
        Topic.LISTING_STOCK,
        "What each channel listing may sell, as inventory computed it, keyed by listing id.",
    ),
    Topic.DIAGNOSTICS: TopicSpec(Topic.DIAGNOSTICS, "Probes for health checks and bus benchmarks."),
}

DLQ_PREFIX = "omni.dlq."


def dlq_topic(consumer_group: str) -> str:
    """The dead-letter topic of one consumer group."""
    if not consumer_group or any(c.isspace() for c in consumer_group):
        raise ValueError(f"invalid consumer group name {consumer_group!r}")
    return f"{DLQ_PREFIX}{consumer_group}"
