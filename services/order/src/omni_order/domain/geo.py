"""A pure geocoder over China's administrative divisions: (province, city, district) as the platforms send
them -> the most precise division found (district > city > province) with its centre and the level it was
located at, or None. Not a street-level geocoder: good enough to rank nodes by distance for sourcing.

The data is data/divisions.csv (every province, prefecture-level city and county-level district with its
adcode, parent and centre), generated from the `cpca` distribution by `make geo-data`
(tools/src/omni_tools/geo_dataset.py); docs/geo.md says where it comes from and what "located" means.

Names match with or without their suffix (浙江省/浙江, 杭州市/杭州, 西湖区/西湖, 大理白族自治州/大理州/大理,
内蒙古自治区/内蒙古), and each level is looked for under the one above it when that one is known, so a
district name shared by several cities (鼓楼区, 朝阳区) is told apart by its city. A name that stays
ambiguous, or that is not under the province or city given, is not guessed: the answer is the level above.
- A municipality (北京, 上海, 天津, 重庆) is its own city: 上海/市辖区/徐汇区, 上海市/上海市/徐汇区 and
  ""/上海/徐汇区 all find 徐汇区; 上海 alone is located at the city level.
- A county-level city under its province (仙桃市, 济源市, 石河子市) is found in the city or the district
  field.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

from .rules.ruleset import TraceEntry

PROVINCE, CITY, DISTRICT = "province", "city", "district"
MUNICIPALITIES = frozenset({"110000", "120000", "310000", "500000"})
DATA = "divisions.csv"
TRACE_STAGE, TRACE_SUBJECT = "geo", "ship-to address"

# what platforms put in the city field of a municipality, or above a county-level city under its province
_NO_CITY = frozenset(
    "市辖区 县 城区 郊县 省直辖县级行政区划 自治区直辖县级行政区划 省直辖县级行政单位 直辖县级".split()
)
# longest first: 自治州 before 州, 地区 and 林区 before 区
_SUFFIXES = tuple("特别行政区 自治区 自治州 自治县 自治旗 地区 林区 省 市 盟 区 县 旗 州".split())
_AUTONOMOUS = frozenset({"自治区", "自治州", "自治县", "自治旗"})
_NATIONS_WITH_ZU = (
    "蒙古族 回族 藏族 维吾尔族 苗族 彝族 壮族 布依族 朝鲜族 满族 侗族 瑶族 白族 土家族 哈尼族 哈萨克族 "
    "傣族 黎族 傈僳族 佤族 畲族 拉祜族 水族 东乡族 纳西族 景颇族 柯尔克孜族 土族 达斡尔族 仫佬族 羌族 "
    "布朗族 撒拉族 毛南族 仡佬族 锡伯族 阿昌族 普米族 塔吉克族 怒族 乌孜别克族 俄罗斯族 鄂温克族 德昂族 "
    "保安族 裕固族 京族 塔塔尔族 独龙族 鄂伦春族 赫哲族 门巴族 珞巴族 基诺族 高山族 各族"
).split()
# the peoples an autonomous division is named after, also without 族 (伊犁哈萨克自治州, 新疆维吾尔自治区)
_NATIONS = tuple(
    sorted({*_NATIONS_WITH_ZU, *(n[:-1] for n in _NATIONS_WITH_ZU if len(n) > 2)}, key=len, reverse=True)
)


@dataclass(frozen=True)
class Division:
    adcode: str  # 6 digits: province XX0000, city XXYY00, district XXYYZZ
    name: str
    level: str  # province | city | district
    parent: str  # the province or city above it; "" for a province
    lat: float
    lng: float


@dataclass(frozen=True)
class Location:
    """Where an address was placed: the division found, and the level it was located at (a municipality
    found as the city is level city, at its own adcode)."""

    level: str  # district | city | province
    adcode: str
    name: str
    lat: float
    lng: float


def norm(name: str) -> str:
    return "".join((name or "").split())


def key(name: str) -> str:
    """A division's name without its suffix, the form both sides are matched in: 浙江省 -> 浙江,
    西湖区 -> 西湖, 大理白族自治州 -> 大理, 大理州 -> 大理, 广西壮族自治区 -> 广西. Two characters stay."""
    n = norm(name)
    for s in _SUFFIXES:
        if n.endswith(s) and len(n) - len(s) >= 2:
            n = n[: -len(s)]
            if s in _AUTONOMOUS:
                n = _without_nations(n)
            break
    return n


def _without_nations(n: str) -> str:
    stripped = True
    while stripped:
        stripped = False
        for e in _NATIONS:
            if n.endswith(e) and len(n) - len(e) >= 2:
                n, stripped = n[: -len(e)], True
                break
    if n.endswith("族") and len(n) > 2:  # named after its people alone: 东乡族自治县 -> 东乡
        n = n[:-1]
    return n


class Gazetteer:
    """The divisions, indexed by level and matching key."""

    def __init__(self, divisions: Iterable[Division]) -> None:
        self.by_code: dict[str, Division] = {d.adcode: d for d in divisions}
        self._index: dict[tuple[str, str], list[Division]] = defaultdict(list)
        for d in self.by_code.values():
            self._index[(d.level, key(d.name))].append(d)

    def of_level(self, level: str) -> list[Division]:
        return [d for d in self.by_code.values() if d.level == level]

    def locate(self, state: str = "", city: str = "", district: str = "") -> Location | None:
        """The most precise division the address names, or None when it names none (module doc)."""
        prov = self._one(PROVINCE, state, _anywhere)
        town = self._city(prov, city)
        found = self._district(prov, town, district) or town or prov
        if found is None:
            return None
        level = CITY if found.adcode in MUNICIPALITIES else found.level
        return Location(level, found.adcode, found.name, found.lat, found.lng)

    def _city(self, prov: Division | None, name: str) -> Division | None:
        """The city named: a city, a municipality (its own city), or a county-level division named as the
        city (仙桃市 under 湖北省; 徐汇区 as 上海's city)."""
        municipality = prov if prov is not None and prov.adcode in MUNICIPALITIES else None
        if not norm(name) or norm(name) in _NO_CITY:
            return municipality
        if prov is None:
            return (
                self._one(CITY, name, _anywhere)
                or self._one(PROVINCE, name, lambda d: d.adcode in MUNICIPALITIES)
                or self._one(DISTRICT, name, _anywhere)
            )
        if municipality is not None and key(name) == key(prov.name):
            return municipality
        return self._one(CITY, name, lambda d: d.parent == prov.adcode) or self._one(
            DISTRICT, name, lambda d: d.adcode[:2] == prov.adcode[:2]
        )

    def _district(self, prov: Division | None, town: Division | None, name: str) -> Division | None:
        if not norm(name) or (town is not None and town.level == DISTRICT):
            return None  # a county-level division already found in the city field
        if town is not None and town.level == CITY:
            return self._one(DISTRICT, name, lambda d: d.parent == town.adcode)
        above = town or prov  # a municipality, or a province whose city was not named (or not found)
        if above is not None:
            return self._one(DISTRICT, name, lambda d: d.adcode[:2] == above.adcode[:2])
        return self._one(DISTRICT, name, _anywhere)

    def _one(self, level: str, name: str, ok: Callable[[Division], bool]) -> Division | None:
        """The one division of `level` matching `name` where `ok`; on a tie the exact name; else None."""
        n = norm(name)
        if not n:
            return None
        found = [d for d in self._index.get((level, key(n)), ()) if ok(d)]
        if len(found) > 1:
            found = [d for d in found if d.name == n]
        return found[0] if len(found) == 1 else None


def _anywhere(d: Division) -> bool:
    return True


def read(text: str) -> list[Division]:
    """The divisions of a divisions.csv text (its `#` header lines skipped)."""
    rows = csv.DictReader(line for line in io.StringIO(text) if not line.startswith("#"))
    return [Division(**{**r, "lat": float(r["lat"]), "lng": float(r["lng"])}) for r in rows]


@cache
def gazetteer() -> Gazetteer:
    """The packaged divisions (read once per process)."""
    return Gazetteer(read(files(__package__).joinpath("data", DATA).read_text(encoding="utf-8")))


def locate(state: str = "", city: str = "", district: str = "") -> Location | None:
    """The ship-to's (province, city, district) located in the packaged divisions (Gazetteer.locate)."""
    return gazetteer().locate(state, city, district)


def geocode(city: str, state: str = "", district: str = "") -> tuple[float, float] | None:
    """(lat, lng) of the most precise division found, or None."""
    found = locate(state, city, district)
    return (found.lat, found.lng) if found else None


def located_trace(row: dict[str, Any]) -> TraceEntry:
    """The decision trace's word on an order row's ship-to (its geo_level and geo_adcode columns)."""
    level, code = row.get("geo_level"), row.get("geo_adcode")
    if not level or not code:
        return TraceEntry(
            TRACE_STAGE, TRACE_SUBJECT, False, "address not located: routing cannot rank by distance"
        )
    d = gazetteer().by_code.get(code)
    name = d.name if d else "?"
    return TraceEntry(TRACE_STAGE, TRACE_SUBJECT, True, f"address located at {level} {name} ({code})")
