"""What sourcing works with: lines asked for, points on Earth, and the candidate nodes with their stock and
their state at sourcing time (load, closed, full). Pure: no I/O, no framework. `sourcing` re-exports them."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from .nodes import DEFAULT_LOAD_BAND_KM

EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True)
class Line:
    material_code: str
    qty: int

    def __post_init__(self) -> None:
        if self.qty <= 0:
            raise ValueError(f"{self.material_code}: quantity must be positive, got {self.qty}")


@dataclass(frozen=True)
class Point:
    lat: float
    lng: float


@dataclass(slots=True)
class Candidate:
    """An active node, what it has available of the materials asked for, and its state when sourcing looks
    (the stock view sets it from the node's routing settings and its open tasks). Made afresh for every
    decision, and read only (not frozen: a frozen dataclass takes three times as long to make, and a
    decision makes one per node holding its materials)."""

    code: str
    lat: float
    lng: float
    priority: int
    stock: Mapping[str, int] = field(default_factory=dict)
    type: str = "warehouse"  # warehouse | store
    load: int = 0  # open tasks
    closed: str = ""  # why it is closed now ("closed: opens 09:00 Asia/Shanghai"); "" while open
    full: str = ""  # why it can take no more ("full: 40 of 40 open tasks"); "" while it can
    band_km: float = (
        DEFAULT_LOAD_BAND_KM  # nodes this much farther compete with it on load when it is nearest
    )
    radius_km: float | None = None  # same-city delivery radius (stores)
    pools: frozenset[str] = frozenset()
    high_value: bool = False  # dedicated to high-value goods

    def available(self, material_code: str) -> int:
        return max(self.stock.get(material_code, 0), 0)


def haversine_km(a: Point, b: Point) -> float:
    """Great-circle distance in kilometres."""
    return _haversine(a.lat, a.lng, b.lat, b.lng)


def _haversine(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


@lru_cache(maxsize=8192)
def _rounded_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Remembered: a decision measures each node twice (to source, then to explain)."""
    return round(_haversine(lat1, lng1, lat2, lng2), 3)


def distance_km(c: Candidate, destination: Point | None) -> float:
    """Kilometres to the destination, rounded to the metre so that equal places tie; 0 without one."""
    if destination is None:
        return 0.0
    return _rounded_km(c.lat, c.lng, destination.lat, destination.lng)


def km(d: float) -> str:
    return f"{d:.1f} km" if d < 10 else f"{d:.0f} km"


def holds_all(c: Candidate, demand: Mapping[str, int]) -> bool:
    stock = c.stock
    return all(stock.get(m, 0) >= q for m, q in demand.items())


def holding(c: Candidate, demand: Mapping[str, int]) -> str:
    """What the node holds of the demand, in words."""
    stock = c.stock
    have = [(m, q, stock.get(m, 0)) for m, q in demand.items()]
    if all(a >= q for _, q, a in have):
        return "holds every line"
    if not any(a > 0 for _, _, a in have):
        return "no stock of " + ", ".join(demand)
    held = [f"{m} {min(a, q)} of {q}" for m, q, a in have if a > 0]
    missing = [m for m, _, a in have if a <= 0]
    return "holds " + ", ".join(held) + (f" (no {', '.join(missing)})" if missing else "")
