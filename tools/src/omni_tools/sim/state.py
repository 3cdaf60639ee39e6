"""The simulated platforms' state: shops and their credentials, items with SKUs and quantities, the faults
the simulator is told to inject, and a log of the calls it received. Pure: no I/O, no clock of its own."""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Faults(BaseModel):
    """What the simulator does to calls, set at start or through `PUT /_sim/faults`."""

    model_config = ConfigDict(extra="forbid")

    failure_rate: float = Field(0.0, ge=0, le=1, description="share of calls answered with a server error")
    timeout_rate: float = Field(0.0, ge=0, le=1, description="share of calls held past the client's timeout")
    timeout_s: float = Field(30.0, ge=0, le=600, description="how long a timed-out call is held")
    latency_ms: float = Field(0.0, ge=0, le=60_000, description="added to every call")
    rate_limit_per_s: float = Field(0.0, ge=0, description="calls per second per app key (0: no limit)")
    rate_limit_burst: int = Field(20, ge=1)


class SkuIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku_id: int = Field(gt=0)
    outer_id: str | None = Field(None, max_length=64)
    quantity: int = Field(0, ge=0)


class ItemIn(BaseModel):
    """An item (商品) of a shop, as the platform holds it."""

    model_config = ConfigDict(extra="forbid")

    num_iid: int = Field(gt=0)
    shop_id: str = Field(min_length=1, max_length=64)
    title: str = Field("", max_length=120)
    outer_id: str | None = Field(None, max_length=64)
    quantity: int = Field(0, ge=0, description="the item's total; with SKUs it is their sum")
    approve_status: str = Field("onsale", pattern="^(onsale|instock|deleted)$")
    skus: list[SkuIn] = Field(default_factory=list, max_length=600)


class ShopIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    shop_id: str = Field(min_length=1, max_length=64)
    app_key: str = Field(min_length=1, max_length=64)
    secret: str = Field(min_length=8, max_length=256)
    session: str = Field(min_length=1, max_length=256, description="the seller's access token")


@dataclass
class Item:
    num_iid: int
    shop_id: str
    title: str
    outer_id: str | None
    quantity: int
    approve_status: str
    skus: dict[int, dict[str, Any]]  # sku_id -> {"outer_id", "quantity", "modified"}
    modified: str = ""

    def total(self) -> int:
        return sum(s["quantity"] for s in self.skus.values()) if self.skus else self.quantity


class TokenBucket:
    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self.tokens: dict[str, tuple[float, float]] = {}

    def take(self, key: str, now: float) -> bool:
        if self.rate <= 0:
            return True
        tokens, at = self.tokens.get(key, (float(self.burst), now))
        tokens = min(self.burst, tokens + (now - at) * self.rate)
        if tokens < 1:
            self.tokens[key] = (tokens, now)
            return False
        self.tokens[key] = (tokens - 1, now)
        return True


@dataclass
class Platform:
    """One simulated platform (e.g. Taobao/Tmall): its shops, items, faults and received calls."""

    name: str
    seed: int = 0
    faults: Faults = field(default_factory=Faults)
    shops: dict[str, ShopIn] = field(default_factory=dict)  # app_key -> shop
    items: dict[int, Item] = field(default_factory=dict)
    calls: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=10_000))
    shipments: dict[int, dict[str, Any]] = field(default_factory=dict)  # tid -> the shipment written back
    closed_trades: set[int] = field(default_factory=set)  # trades a shipment is refused for

    def __post_init__(self) -> None:
        self.random = random.Random(self.seed)
        self.bucket = TokenBucket(self.faults.rate_limit_per_s, self.faults.rate_limit_burst)

    def set_faults(self, faults: Faults) -> None:
        self.faults = faults
        self.bucket = TokenBucket(faults.rate_limit_per_s, faults.rate_limit_burst)

    def put_shop(self, shop: ShopIn) -> None:
        self.shops[shop.app_key] = shop

    def put_item(self, item: ItemIn, modified: str) -> Item:
        skus = {s.sku_id: {"outer_id": s.outer_id, "quantity": s.quantity, "modified": modified}
                for s in item.skus}  # fmt: skip
        made = Item(item.num_iid, item.shop_id, item.title, item.outer_id, item.quantity, item.approve_status,
                    skus, modified)  # fmt: skip
        self.items[item.num_iid] = made
        return made

    def drift(self, num_iid: int, sku_id: int | None, quantity: int, modified: str) -> Item:
        """Change a quantity behind the client's back (a seller edited it in the platform's back office)."""
        item = self.items[num_iid]
        if sku_id is None:
            item.quantity = quantity
        else:
            item.skus[sku_id]["quantity"] = quantity
            item.skus[sku_id]["modified"] = modified
        item.modified = modified
        return item

    def draw(self) -> str | None:
        """Which fault this call gets, if any: 'timeout', 'failure' or None."""
        r = self.random.random()
        if r < self.faults.timeout_rate:
            return "timeout"
        if r < self.faults.timeout_rate + self.faults.failure_rate:
            return "failure"
        return None
