"""Carriers (承运商) as data, and what one carrier makes of one parcel.

A carrier has:
- service areas: province, city or district, each `include` or `exclude`. The most specific area matching
  the destination decides; a destination no area matches is served only when the carrier has no include
  area at all (no areas: it serves everywhere; only excludes: everywhere but there);
- weight bands: `min_g <= weight < max_g` (`max_g` None: open-ended), each with a first weight and its
  price and a continued-weight step and its price, all money in integer fen. A band may be for a region
  (province or province + city): the most specific region that has bands prices the parcel, and when none
  of its bands holds the weight the carrier cannot take it (it never falls back to a cheaper region);
- price = first price, plus one step price per continued step or part of one: rounded UP per continued
  unit (ONEX prorates it, catalogue §4.1 and §13 #11);
- a cut-off time (local, in its time zone, Asia/Shanghai by default): a parcel assigned at or after it is
  handed over the next day, so it takes a day more;
- SLA days per region (the most specific wins, else its default), a daily capacity (None: unlimited) and
  a health state: healthy, degraded (taken only when no healthy carrier fits) or down (never taken).

Place names are compared as the platforms send them, without their administrative suffixes (浙江省 =
浙江, 杭州市 = 杭州, 广西壮族自治区 = 广西), and a name that begins with the other's is the same place
(恩施土家族苗族自治州 = 恩施). Pure: no I/O, no clock (the caller passes `now`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import TypeVar
from zoneinfo import ZoneInfo

from .errors import Invalid

T = TypeVar("T")
SHANGHAI = "Asia/Shanghai"
_SUFFIXES = (
    "维吾尔自治区", "壮族自治区", "回族自治区", "特别行政区", "自治区", "自治州", "自治县", "地区",
    "省", "市", "盟", "区", "县", "旗",
)  # fmt: skip


class Health(StrEnum):
    HEALTHY = "healthy"
    DEGRADED = "degraded"
    DOWN = "down"


def place(name: str) -> str:
    """A place name without blanks and without its administrative suffix (kept when too little is left)."""
    s = "".join(name.split())
    for suffix in _SUFFIXES:
        if s.endswith(suffix) and len(s) - len(suffix) >= 2:
            return s[: -len(suffix)]
    return s


def same_place(a: str, b: str) -> bool:
    """Two normalised names of one level: equal, or one begins with the other (two characters at least)."""
    if a == b:
        return True
    if a[:1] != b[:1] or len(a) < 2 or len(b) < 2:  # the fast way out: most names differ at once
        return False
    return a.startswith(b) or b.startswith(a)


@dataclass(frozen=True)
class Region:
    """Where a parcel goes: province, city, district as the order names them ('' when unknown)."""

    province: str
    city: str = ""
    district: str = ""
    key: tuple[str, str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", (place(self.province), place(self.city), place(self.district)))

    @property
    def known(self) -> bool:
        return bool(self.key[0])

    def __str__(self) -> str:
        return " ".join(x for x in (self.province, self.city) if x) or "an unknown destination"


@dataclass(frozen=True)
class Area:
    """A province, a city of it, or a district of that city."""

    province: str
    city: str = ""
    district: str = ""
    exclude: bool = False
    key: tuple[str, str, str] = field(init=False, repr=False, compare=False)
    depth: int = field(init=False, repr=False, compare=False)  # 1 province, 2 city, 3 district

    def __post_init__(self) -> None:
        if not self.province.strip():
            raise Invalid("an area names its province")
        if self.district.strip() and not self.city.strip():
            raise Invalid(f"the district {self.district} needs its city")
        object.__setattr__(self, "key", (place(self.province), place(self.city), place(self.district)))
        object.__setattr__(self, "depth", 1 + bool(self.key[1]) + bool(self.key[2]))

    def holds(self, region: Region) -> bool:
        (p, c, d), (rp, rc, rd) = self.key, region.key
        if p != rp and not same_place(p, rp):
            return False
        if c and c != rc and not (rc and same_place(c, rc)):
            return False
        return not d or d == rd or bool(rd and same_place(d, rd))

    def __str__(self) -> str:
        return "/".join(x for x in (self.province, self.city, self.district) if x)


def most_specific(region: Region, items: tuple[tuple[Area, T], ...]) -> T | None:
    """The item of the deepest area holding `region` (the first of equals)."""
    best: tuple[int, T] | None = None
    for area, item in items:
        if area.holds(region) and (best is None or area.depth > best[0]):
            best = (area.depth, item)
    return best[1] if best else None


@dataclass(frozen=True)
class Band:
    """A weight band: `min_g <= weight < max_g`; the price of its first `first_g` grams, then `step_cents`
    per `step_g` grams or part of them. `area`: the region it prices (None: everywhere)."""

    min_g: int
    max_g: int | None
    first_g: int
    first_cents: int
    step_g: int
    step_cents: int
    area: Area | None = None

    def __post_init__(self) -> None:
        if self.min_g < 0 or self.first_g < 0 or self.first_cents < 0 or self.step_cents < 0:
            raise Invalid("band weights and prices are not negative")
        if self.max_g is not None and self.max_g <= self.min_g:
            raise Invalid(f"a band's max_g ({self.max_g}) is above its min_g ({self.min_g})")
        if self.step_g < 1:
            raise Invalid("a band's continued-weight step is 1 g or more")
        if self.area is not None and (self.area.exclude or self.area.district):
            raise Invalid("a band's region is a province or a city (an include)")

    def holds(self, weight_g: int) -> bool:
        return self.min_g <= weight_g and (self.max_g is None or weight_g < self.max_g)

    def price(self, weight_g: int) -> int:
        """First price, plus one step price per continued step begun (rounded up)."""
        extra = max(0, weight_g - self.first_g)
        return self.first_cents + -(-extra // self.step_g) * self.step_cents

    def __str__(self) -> str:
        top = f"{self.max_g:,}" if self.max_g is not None else "∞"
        return f"{self.min_g:,}-{top} g"


@dataclass(frozen=True)
class RegionDays:
    area: Area
    days: int

    def __post_init__(self) -> None:
        if self.area.exclude or not 0 <= self.days <= 60:
            raise Invalid("days per region are 0..60, for an included area")


@dataclass(frozen=True)
class Carrier:
    code: str
    name: str
    bands: tuple[Band, ...]
    areas: tuple[Area, ...] = ()
    sla: tuple[RegionDays, ...] = ()
    default_sla_days: int = 3
    cutoff: time | None = None
    timezone: str = SHANGHAI
    daily_capacity: int | None = None
    health: Health = Health.HEALTHY
    health_note: str = ""
    active: bool = True
    version: int = 1

    def __post_init__(self) -> None:
        if not self.bands:
            raise Invalid(f"carrier {self.code} needs at least one weight band")
        if not 0 <= self.default_sla_days <= 60:
            raise Invalid("default_sla_days is 0..60")
        if self.daily_capacity is not None and self.daily_capacity < 0:
            raise Invalid("daily_capacity is not negative")
        try:
            ZoneInfo(self.timezone)
        except (KeyError, ValueError):
            raise Invalid(f"unknown time zone {self.timezone}") from None
        seen: dict[tuple[str, str], list[Band]] = {}
        for b in self.bands:
            where = b.area.key[:2] if b.area else ("", "")
            for other in seen.setdefault(where, []):
                if _overlap(b, other):
                    raise Invalid(f"weight bands {other} and {b} overlap{_for(b.area)}")
            seen[where].append(b)
        keys = [(a.key, a.exclude) for a in self.areas]
        if len({k for k, _ in keys}) != len(keys):
            raise Invalid(f"carrier {self.code} names an area twice")
        object.__setattr__(self, "_served", tuple((a, not a.exclude) for a in self.areas))
        object.__setattr__(self, "_includes", any(not a.exclude for a in self.areas))
        object.__setattr__(self, "_days", tuple((r.area, r.days) for r in self.sla))

    @property
    def includes(self) -> bool:
        """It names areas it serves (so a destination no area holds is not served)."""
        return self._includes  # type: ignore[attr-defined,no-any-return]

    def serves(self, region: Region) -> bool:
        decided = most_specific(region, self._served)  # type: ignore[attr-defined]
        if decided is not None:
            return bool(decided)
        return not self.includes

    def band_for(self, region: Region, weight_g: int) -> Band | None:
        """The band pricing `weight_g` to `region`: from the most specific region that has bands."""
        depth = -1
        for b in self.bands:
            d = b.area.depth if b.area else 0
            if d > depth and (b.area is None or b.area.holds(region)):
                depth = d
        for b in self.bands:
            d = b.area.depth if b.area else 0
            if d == depth and (b.area is None or b.area.holds(region)) and b.holds(weight_g):
                return b
        return None

    def sla_days(self, region: Region) -> int:
        found = most_specific(region, self._days)  # type: ignore[attr-defined]
        return self.default_sla_days if found is None else int(found)

    def ship_day(self, now: datetime) -> tuple[date, bool]:
        """The local day the parcel is handed over, and whether that is tomorrow (past the cut-off)."""
        local = now.astimezone(ZoneInfo(self.timezone))
        if self.cutoff is not None and local.time() >= self.cutoff:
            return local.date() + timedelta(days=1), True
        return local.date(), False


def _overlap(a: Band, b: Band) -> bool:
    a_top = a.max_g if a.max_g is not None else float("inf")
    b_top = b.max_g if b.max_g is not None else float("inf")
    return a.min_g < b_top and b.min_g < a_top


def _for(area: Area | None) -> str:
    return f" for {area}" if area else ""


class PinKind(StrEnum):
    SKU = "sku"
    SHOP = "shop"
    REGION = "region"


PIN_ORDER = {PinKind.SKU: 0, PinKind.SHOP: 1, PinKind.REGION: 2}


@dataclass(frozen=True)
class Pin:
    """A rule that pins a carrier: for parcels holding a material (sku), of a shop, or to a region. Pins
    are tried before cost, sku first, then shop, then region; higher `priority` first within a kind."""

    rule_id: str
    carrier: str
    kind: PinKind
    material_code: str | None = None
    shop_id: str | None = None
    area: Area | None = None
    priority: int = 0
    active: bool = True
    version: int = 1

    def __post_init__(self) -> None:
        given = {PinKind.SKU: self.material_code, PinKind.SHOP: self.shop_id, PinKind.REGION: self.area}
        if given[self.kind] is None or any(v is not None for k, v in given.items() if k is not self.kind):
            raise Invalid(f"a {self.kind.value} pin names its {_WHAT[self.kind]} and nothing else")
        if self.area is not None and self.area.exclude:
            raise Invalid("a region pin is for an included area")

    @property
    def sort_key(self) -> tuple[int, int, int, str]:
        depth = self.area.depth if self.area else 0
        return PIN_ORDER[self.kind], -self.priority, -depth, self.rule_id

    def applies(self, shop_id: str, region: Region, materials: frozenset[str]) -> bool:
        if not self.active:
            return False
        if self.kind is PinKind.SKU:
            return self.material_code in materials
        if self.kind is PinKind.SHOP:
            return self.shop_id == shop_id
        return self.area is not None and self.area.holds(region)

    def __str__(self) -> str:
        what = {PinKind.SKU: self.material_code, PinKind.SHOP: self.shop_id, PinKind.REGION: str(self.area)}
        return f"rule {self.rule_id} ({self.kind.value} {what[self.kind]})"


_WHAT = {PinKind.SKU: "material_code", PinKind.SHOP: "shop_id", PinKind.REGION: "area"}


@dataclass(frozen=True)
class Promise:
    """The delivery days promised to the buyer, per region (the most specific wins), else `default_days`:
    the cheapest carrier within it is chosen."""

    default_days: int = 3
    regions: tuple[RegionDays, ...] = ()
    version: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.default_days <= 60:
            raise Invalid("the promised days are 0..60")
        keys = [r.area.key for r in self.regions]
        if len(set(keys)) != len(keys):
            raise Invalid("a region's promise is given twice")

    def days(self, region: Region) -> int:
        found = most_specific(region, tuple((r.area, r.days) for r in self.regions))
        return self.default_days if found is None else found


def yuan(cents: int) -> str:
    return f"¥{cents // 100}.{cents % 100:02d}"
