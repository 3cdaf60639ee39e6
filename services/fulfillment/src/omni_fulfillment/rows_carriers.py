"""Carrier routing's documents <-> domain objects: the JSON the tables keep and the audit records (the API
reads and writes the same shapes)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import time
from typing import Any

from .domain.carriers import Area, Band, Carrier, Health, Pin, PinKind, Promise, RegionDays

# an area as JSON: {province, city, district, exclude}; '' for a level not given


def area_json(a: Area) -> dict[str, Any]:
    return {"province": a.province, "city": a.city, "district": a.district, "exclude": a.exclude}


def area_of(d: dict[str, Any]) -> Area:
    return Area(d["province"], d.get("city") or "", d.get("district") or "", bool(d.get("exclude", False)))


def band_json(b: Band) -> dict[str, Any]:
    return {
        "min_g": b.min_g,
        "max_g": b.max_g,
        "first_g": b.first_g,
        "first_cents": b.first_cents,
        "step_g": b.step_g,
        "step_cents": b.step_cents,
        "area": area_json(b.area) if b.area else None,
    }


def band_of(d: dict[str, Any]) -> Band:
    area = d.get("area")
    return Band(
        int(d["min_g"]),
        None if d.get("max_g") is None else int(d["max_g"]),
        int(d["first_g"]),
        int(d["first_cents"]),
        int(d["step_g"]),
        int(d["step_cents"]),
        area_of(area) if area else None,
    )


def days_json(r: RegionDays) -> dict[str, Any]:
    return {"area": area_json(r.area), "days": r.days}


def days_of(d: dict[str, Any]) -> RegionDays:
    return RegionDays(area_of(d["area"]), int(d["days"]))


def cutoff_text(t: time | None) -> str | None:
    return None if t is None else f"{t:%H:%M}"


def cutoff_of(s: str | None) -> time | None:
    return None if s is None else time.fromisoformat(s)


def carrier_doc(c: Carrier) -> dict[str, Any]:
    """The carrier as the table, the audit and the API keep it (its version aside)."""
    return {
        "code": c.code,
        "name": c.name,
        "active": c.active,
        "health": c.health.value,
        "health_note": c.health_note,
        "timezone": c.timezone,
        "cutoff": cutoff_text(c.cutoff),
        "daily_capacity": c.daily_capacity,
        "default_sla_days": c.default_sla_days,
        "areas": [area_json(a) for a in c.areas],
        "sla": [days_json(r) for r in c.sla],
        "bands": [band_json(b) for b in c.bands],
    }


def carrier_of(r: Any) -> Carrier:
    """From a `carriers` row (or anything with its columns as attributes)."""
    return Carrier(
        code=r.code,
        name=r.name,
        bands=tuple(band_of(d) for d in r.bands),
        areas=tuple(area_of(d) for d in r.areas),
        sla=tuple(days_of(d) for d in r.sla),
        default_sla_days=r.default_sla_days,
        cutoff=cutoff_of(r.cutoff),
        timezone=r.timezone,
        daily_capacity=r.daily_capacity,
        health=Health(r.health),
        health_note=r.health_note,
        active=r.active,
        version=r.version,
    )


def pin_doc(p: Pin) -> dict[str, Any]:
    return {
        "rule_id": p.rule_id,
        "carrier": p.carrier,
        "kind": p.kind.value,
        "material_code": p.material_code,
        "shop_id": p.shop_id,
        "area": area_json(p.area) if p.area else None,
        "priority": p.priority,
        "active": p.active,
    }


def pin_of(r: Any) -> Pin:
    return Pin(
        rule_id=r.rule_id,
        carrier=r.carrier,
        kind=PinKind(r.kind),
        material_code=r.material_code,
        shop_id=r.shop_id,
        area=area_of(r.area) if r.area else None,
        priority=r.priority,
        active=r.active,
        version=r.version,
    )


def promise_doc(p: Promise) -> dict[str, Any]:
    return {"default_days": p.default_days, "regions": [days_json(r) for r in p.regions]}


def promise_of(d: dict[str, Any] | None, version: int = 0) -> Promise:
    if not d:
        return Promise(version=version)
    return Promise(int(d["default_days"]), tuple(days_of(x) for x in d.get("regions", [])), version)


def hints_json(hints: Iterable[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"carrier": c, "ruleset": r} for c, r in hints]
