"""Nodes: the warehouses and stores goods ship from (or are collected at), and what routing knows of them.

A node's routing settings (`NodeRouting`, data changed through REST without a restart):
- business hours (hours.py): a closed node is skipped while an open one can ship the lines;
- capacity: `orders_per_day` (orders given to it since its local midnight) and `max_open_tasks`; a full node
  is skipped;
- `same_city_radius_km`: a store delivers same-city orders (delivery `same_city`) within that distance;
- `load_band_km`: when this node is the nearest that can ship an order, the nodes at most this much farther
  compete with it on load (the fewer open tasks win);
- `pools`: the pools it belongs to, for the OMS rules' route hints (`pool`);
- `high_value`: a node dedicated to high-value goods (their lines go there first).

Its load (`NodeLoad`) is derived from fulfillment's own tasks at sourcing time, never stored.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from enum import StrEnum

from .hours import OpeningHours

DEFAULT_LOAD_BAND_KM = 2.0
POOL_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")


class NodeType(StrEnum):
    WAREHOUSE = "warehouse"
    STORE = "store"


@dataclass(frozen=True)
class NodeRouting:
    hours: OpeningHours = field(default_factory=OpeningHours)
    orders_per_day: int | None = None  # None: no limit
    max_open_tasks: int | None = None  # None: no limit
    same_city_radius_km: float | None = None  # None: no same-city delivery from it
    load_band_km: float = DEFAULT_LOAD_BAND_KM
    pools: tuple[str, ...] = ()
    high_value: bool = False

    def __post_init__(self) -> None:
        for name in ("orders_per_day", "max_open_tasks"):
            v = getattr(self, name)
            if v is not None and v < 0:
                raise ValueError(f"{name} cannot be negative, got {v}")
        r = self.same_city_radius_km
        if r is not None and not (math.isfinite(r) and 0 < r <= 200):
            raise ValueError(f"same_city_radius_km is more than 0 and at most 200 km, got {r}")
        if not (math.isfinite(self.load_band_km) and 0 <= self.load_band_km <= 100):
            raise ValueError(f"load_band_km is 0 to 100 km, got {self.load_band_km}")
        for p in self.pools:
            if not POOL_PATTERN.match(p):
                raise ValueError(f"pool {p!r} is not a code (letters, digits, _ . -, at most 64)")
        if len(set(self.pools)) != len(self.pools):
            raise ValueError("a pool is named twice")


DEFAULT_ROUTING = NodeRouting()


@dataclass(frozen=True)
class NodeLoad:
    """What a node has on its hands: tasks not done yet (and reservations on their way to becoming one), and
    the orders it was given since its local midnight."""

    open_tasks: int = 0
    orders_today: int = 0


def full_why(routing: NodeRouting, load: NodeLoad) -> str | None:
    """None while the node can take another order, else why not ("full: 40 of 40 open tasks")."""
    if routing.max_open_tasks is not None and load.open_tasks >= routing.max_open_tasks:
        return f"full: {load.open_tasks} of {routing.max_open_tasks} open tasks"
    if routing.orders_per_day is not None and load.orders_today >= routing.orders_per_day:
        return f"full: {load.orders_today} of {routing.orders_per_day} orders today"
    return None


@dataclass(frozen=True)
class Node:
    code: str
    name: str
    type: NodeType
    city: str
    lat: float
    lng: float
    priority: int
    active: bool = True
    routing: NodeRouting = DEFAULT_ROUTING

    def __post_init__(self) -> None:
        if not -90 <= self.lat <= 90:
            raise ValueError(f"latitude {self.lat} is outside -90..90")
        if not -180 <= self.lng <= 180:
            raise ValueError(f"longitude {self.lng} is outside -180..180")
