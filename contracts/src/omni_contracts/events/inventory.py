"""Inventory (IVM): reservations and stock changes."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, Field

from ..envelope import EventPayload
from ..registry import REGISTRY, event
from ..topics import Topic
from .common import Code, MaterialQty, Shortfall

Movement = Literal["receipt", "adjustment", "reservation", "release", "shipment"]


@event("inventory.stock-changed", 1, Topic.STOCK_CHANGED)
class StockChangedV1(EventPayload):
    """Stock of one material at one node after a change. Key: `<node>:<material>`. `seq` grows per pair."""

    node_code: Code
    material_code: Code
    on_hand: int
    reserved: int = Field(ge=0)
    frozen: int = Field(ge=0)
    available: int
    movement: Movement
    seq: int = Field(ge=1)
    changed_at: AwareDatetime


# v2 adds the freeze movements (an operator holds stock back, with a reason, and lets it go). New values of
# `movement` are not readable by v1 readers, so no readable_as; every v1 event is valid v2 data (the upcaster
# changes nothing). V2 subclasses V1 so that code written for a V1 takes a V2.
MovementV2 = Literal["receipt", "adjustment", "reservation", "release", "shipment", "freeze", "unfreeze"]


@event("inventory.stock-changed", 2, Topic.STOCK_CHANGED)
class StockChangedV2(StockChangedV1):
    """Stock of one material at one node after a change, freezes included. Key: `<node>:<material>`."""

    movement: MovementV2  # type: ignore[assignment]


@REGISTRY.upcaster("inventory.stock-changed", 1)
def _stock_changed_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    return data


# v3 adds the physical movements (issue #8 layers 1-2): quality moves between good stock and defective or
# quarantined stock, cycle counts, and transfers between nodes (out of the source, into the target, and a
# short receipt's loss). Same fields; new values of `movement` (so no readable_as); the upcaster changes
# nothing.
MovementV3 = Literal[
    "receipt", "adjustment", "reservation", "release", "shipment", "freeze", "unfreeze",
    "quality", "count", "transfer-out", "transfer-in", "transfer-loss",
]  # fmt: skip


@event("inventory.stock-changed", 3, Topic.STOCK_CHANGED)
class StockChangedV3(StockChangedV2):
    """Stock of one material at one node after a change, quality moves, counts and transfers included.
    `on_hand` is the good (sellable) stock. Key: `<node>:<material>`."""

    movement: MovementV3  # type: ignore[assignment]


@REGISTRY.upcaster("inventory.stock-changed", 2)
def _stock_changed_v2_to_v3(data: dict[str, Any]) -> dict[str, Any]:
    return data


# v4 adds the store sales (issue #9, POS): goods sold at a store's till leave its stock (`store-sale`), goods
# brought back to the till return to its good stock (`store-return`). Same fields; new values of `movement`
# (so no readable_as); the upcaster changes nothing.
MovementV4 = Literal[
    "receipt", "adjustment", "reservation", "release", "shipment", "freeze", "unfreeze",
    "quality", "count", "transfer-out", "transfer-in", "transfer-loss", "store-sale", "store-return",
]  # fmt: skip


@event("inventory.stock-changed", 4, Topic.STOCK_CHANGED)
class StockChangedV4(StockChangedV3):
    """Stock of one material at one node after a change, store sales and till returns included. `on_hand` is
    the good (sellable) stock. Key: `<node>:<material>`."""

    movement: MovementV4  # type: ignore[assignment]


@REGISTRY.upcaster("inventory.stock-changed", 3)
def _stock_changed_v3_to_v4(data: dict[str, Any]) -> dict[str, Any]:
    return data


# v5 adds after-sales returns (issue #10): goods a buyer sent back, inspected good at the node, restocked into
# its good stock (`return-restock`). Same fields; a new value of `movement` (so no readable_as); the
# upcaster changes nothing.
MovementV5 = Literal[
    "receipt", "adjustment", "reservation", "release", "shipment", "freeze", "unfreeze",
    "quality", "count", "transfer-out", "transfer-in", "transfer-loss", "store-sale", "store-return",
    "return-restock",
]  # fmt: skip


@event("inventory.stock-changed", 5, Topic.STOCK_CHANGED)
class StockChangedV5(StockChangedV4):
    """Stock of one material at one node after a change, after-sales returns included. `on_hand` is the good
    (sellable) stock. Key: `<node>:<material>`."""

    movement: MovementV5  # type: ignore[assignment]


@REGISTRY.upcaster("inventory.stock-changed", 4)
def _stock_changed_v4_to_v5(data: dict[str, Any]) -> dict[str, Any]:
    return data


@event("inventory.reserved", 1, Topic.INVENTORY)
class ReservedV1(EventPayload):
    """Every line of a reservation request was reserved at the node. Key: order id."""

    reservation_id: str
    order_id: str
    node_code: Code
    lines: list[MaterialQty] = Field(min_length=1)


@event("inventory.reservation-refused", 1, Topic.INVENTORY)
class ReservationRefusedV1(EventPayload):
    """Nothing was reserved: at least one line was short. Key: order id."""

    reservation_id: str
    order_id: str
    node_code: Code
    shortfall: list[Shortfall] = Field(min_length=1)
    reason: str


@event("inventory.reservation-released", 1, Topic.INVENTORY)
class ReservationReleasedV1(EventPayload):
    reservation_id: str
    order_id: str
    node_code: Code
    lines: list[MaterialQty]


@event("inventory.reservation-consumed", 1, Topic.INVENTORY)
class ReservationConsumedV1(EventPayload):
    """A shipment or pickup took the reserved stock out of the node."""

    reservation_id: str
    order_id: str
    node_code: Code
    lines: list[MaterialQty]


@event("inventory.listing-stock-changed", 1, Topic.LISTING_STOCK)
class ListingStockChangedV1(EventPayload):
    """What one channel listing may sell changed (layer 4, 渠道协同). Key: listing id.

    Inventory decides the number (pools, allocation rules, water levels, safety stock, the listing's formula,
    a bundle's scarcest part) and carries the listing's platform identity so the channel service can push it
    without re-deriving anything. Bursts are coalesced: one event per listing per short window, carrying the
    latest number. `seq` grows per listing; a reader keeps the highest it saw and ignores older ones.
    `GET /listings/{listing_id}/stock` on inventory explains the number.
    """

    listing_id: str = Field(min_length=1)
    channel: Code
    shop_id: Code
    channel_item_id: str = Field(min_length=1, description="num_iid on Taobao/Tmall")
    channel_sku_id: str | None = Field(None, description="sku_id on Taobao/Tmall; None for a single-SKU item")
    quantity: int = Field(ge=0, description="units the listing may sell now")
    previous: int | None = Field(None, ge=0, description="the number last published (None: the first)")
    seq: int = Field(ge=1)
    rules_version: int = Field(ge=0, description="the allocation rule set the number was computed with")
    computed_at: AwareDatetime
