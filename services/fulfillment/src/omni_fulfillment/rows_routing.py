"""A node's routing settings <-> its row's columns and the REST/event documents: hours and holidays as
JSON, [{day, opens, closes}] and [{date, name, windows: [{opens, closes}]}], "HH:MM" in the node's zone."""

from __future__ import annotations

from datetime import date
from typing import Any

from .domain.hours import DAYS, Holiday, OpeningHours, WeeklyWindow, Window, hhmm
from .domain.nodes import NodeRouting

ROUTING_COLUMNS = (
    "timezone", "hours", "holidays", "orders_per_day", "max_open_tasks", "same_city_radius_km",
    "load_band_km", "pools", "high_value",
)  # fmt: skip


def window_doc(w: Window) -> dict[str, str]:
    return {"opens": hhmm(w.opens), "closes": hhmm(w.closes)}


def hours_doc(h: OpeningHours) -> list[dict[str, str]]:
    return [{"day": DAYS[w.day], **window_doc(w.window)} for w in sorted(h.weekly, key=_weekly_key)]


def holidays_doc(h: OpeningHours) -> list[dict[str, Any]]:
    return [
        {"date": x.date.isoformat(), "name": x.name, "windows": [window_doc(w) for w in x.windows]}
        for x in sorted(h.holidays, key=lambda x: x.date)
    ]


def opening_hours(timezone: str, hours: list[dict[str, Any]], holidays: list[dict[str, Any]]) -> OpeningHours:
    """From the documents; ValueError (with its sentence) when they do not make business hours."""
    weekly = []
    for d in hours:
        if d["day"] not in DAYS:
            raise ValueError(f"day {d['day']!r} is not one of {', '.join(DAYS)}")
        weekly.append(WeeklyWindow(DAYS.index(d["day"]), Window.of(d["opens"], d["closes"])))
    days = tuple(
        Holiday(
            date.fromisoformat(d["date"]) if isinstance(d["date"], str) else d["date"],
            tuple(Window.of(w["opens"], w["closes"]) for w in d.get("windows", ())),
            d.get("name", ""),
        )
        for d in holidays
    )
    return OpeningHours(timezone, tuple(weekly), days)


def routing_values(r: NodeRouting) -> dict[str, Any]:
    return {
        "timezone": r.hours.timezone,
        "hours": hours_doc(r.hours),
        "holidays": holidays_doc(r.hours),
        "orders_per_day": r.orders_per_day,
        "max_open_tasks": r.max_open_tasks,
        "same_city_radius_km": r.same_city_radius_km,
        "load_band_km": r.load_band_km,
        "pools": list(r.pools),
        "high_value": r.high_value,
    }


def routing_of(row: Any) -> NodeRouting:
    """A node row's routing settings (as they were validated when saved)."""
    return NodeRouting(
        hours=opening_hours(row.timezone, row.hours or [], row.holidays or []),
        orders_per_day=row.orders_per_day,
        max_open_tasks=row.max_open_tasks,
        same_city_radius_km=row.same_city_radius_km,
        load_band_km=row.load_band_km,
        pools=tuple(row.pools or ()),
        high_value=row.high_value,
    )


def _weekly_key(w: WeeklyWindow) -> tuple[int, int]:
    return (w.day, w.window.opens)
