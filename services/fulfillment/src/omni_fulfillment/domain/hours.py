"""A node's business hours: weekly opening windows in the node's time zone, and holidays (a date closed, or
open at special hours). Pure: no I/O; the time zone database is the system's (`zoneinfo`).

- No weekly window at all: open every day, all day (a warehouse that never closes), holidays aside.
- A window is [opens, closes) in local wall-clock minutes, `closes` up to 24:00. A window past midnight is
  two windows (22:00-24:00 on one day, 00:00-02:00 on the next).
- A holiday replaces that date's weekly windows: none (closed) or its own (special hours).

`closed_why(at)` is None while the node is open, else the sentence the trace shows: "closed: opens 09:00
Asia/Shanghai" (today), "closed: holiday 2026-10-01 National Day; opens Fri 2026-10-02 09:00 Asia/Shanghai".
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TIMEZONE = "Asia/Shanghai"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
LOOK_AHEAD_DAYS = 14  # how far the next opening is looked for
DAY = 24 * 60


def minutes(hhmm: str) -> int:
    """'09:30' -> 570; '24:00' -> 1440 (the end of a day)."""
    try:
        hh, mm = hhmm.split(":")
        if len(hh) != 2 or len(mm) != 2:
            raise ValueError
        h, m = int(hh), int(mm)
    except ValueError:
        raise ValueError(f"{hhmm!r} is not a time of day HH:MM") from None
    if not (0 <= h <= 24 and 0 <= m < 60) or (h == 24 and m):
        raise ValueError(f"{hhmm!r} is not a time of day between 00:00 and 24:00")
    return h * 60 + m


def hhmm(m: int) -> str:
    return f"{m // 60:02d}:{m % 60:02d}"


@dataclass(frozen=True)
class Window:
    """Open from `opens` to `closes` (minutes of the local day, `closes` exclusive)."""

    opens: int
    closes: int

    def __post_init__(self) -> None:
        if not (0 <= self.opens < self.closes <= DAY):
            raise ValueError(
                f"an opening window opens before it closes, within the day: {hhmm(self.opens)}-"
                f"{hhmm(self.closes)} is not"
            )

    @classmethod
    def of(cls, opens: str, closes: str) -> Window:
        return cls(minutes(opens), minutes(closes))

    def __str__(self) -> str:
        return f"{hhmm(self.opens)}-{hhmm(self.closes)}"


@dataclass(frozen=True)
class WeeklyWindow:
    day: int  # 0 = Monday ... 6 = Sunday
    window: Window

    def __post_init__(self) -> None:
        if not 0 <= self.day <= 6:
            raise ValueError(f"day {self.day} is not 0 (Monday) .. 6 (Sunday)")


@dataclass(frozen=True)
class Holiday:
    """A date whose weekly windows do not apply: closed (no windows) or open at special hours."""

    date: date
    windows: tuple[Window, ...] = ()
    name: str = ""

    def __post_init__(self) -> None:
        _no_overlap(self.windows, f"holiday {self.date.isoformat()}")


@dataclass(frozen=True)
class OpeningHours:
    timezone: str = DEFAULT_TIMEZONE
    weekly: tuple[WeeklyWindow, ...] = ()  # none: open every day, all day
    holidays: tuple[Holiday, ...] = ()

    def __post_init__(self) -> None:
        zone(self.timezone)
        for d in range(7):
            _no_overlap([w.window for w in self.weekly if w.day == d], DAYS[d])
        seen = [h.date for h in self.holidays]
        if dup := sorted({d for d in seen if seen.count(d) > 1}):
            raise ValueError(f"holiday {dup[0].isoformat()} is given twice")

    @property
    def always_open(self) -> bool:
        return not self.weekly and not self.holidays

    def windows_on(self, day: date) -> tuple[tuple[Window, ...], Holiday | None]:
        """The windows of a local date, and the holiday that set them (None: the weekly ones)."""
        holiday = next((h for h in self.holidays if h.date == day), None)
        if holiday is not None:
            return holiday.windows, holiday
        if not self.weekly:
            return (Window(0, DAY),), None
        return tuple(sorted((w.window for w in self.weekly if w.day == day.weekday()), key=_start)), None

    def closed_why(self, at: datetime) -> str | None:
        """None while open at `at` (an aware datetime), else why it is closed and when it opens."""
        if self.always_open:
            return None
        local = at.astimezone(zone(self.timezone))
        today, now = local.date(), local.hour * 60 + local.minute
        windows, holiday = self.windows_on(today)
        if any(w.opens <= now < w.closes for w in windows):
            return None
        why = "closed"
        if holiday is not None:
            why += f": holiday {today.isoformat()}" + (f" {holiday.name}" if holiday.name else "")
            if holiday.windows:
                why += f" (open {', '.join(str(w) for w in holiday.windows)})"
        return f"{why}{'; ' if holiday else ': '}{self._next_opening(today, now)}"

    def _next_opening(self, today: date, now: int) -> str:
        for k in range(LOOK_AHEAD_DAYS + 1):
            day = today + timedelta(days=k)
            windows, _ = self.windows_on(day)
            starts = [w.opens for w in windows if k > 0 or w.opens > now]
            if starts:
                when = hhmm(min(starts))
                if k == 0:
                    return f"opens {when} {self.timezone}"
                return f"opens {DAYS[day.weekday()].capitalize()} {day.isoformat()} {when} {self.timezone}"
        return f"no opening hours in the next {LOOK_AHEAD_DAYS} days"


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (an IANA name such as Asia/Shanghai)") from None


def _start(w: Window) -> int:
    return w.opens


def _no_overlap(windows: Iterable[Window], where: str) -> None:
    ordered = sorted(windows, key=_start)
    for a, b in itertools.pairwise(ordered):
        if b.opens < a.closes:
            raise ValueError(f"{where}: opening windows {a} and {b} overlap")
