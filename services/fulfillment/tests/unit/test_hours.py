"""A node's business hours: weekly windows in its time zone, holidays closed or at special hours, and the
sentence the trace shows while it is closed. Pure."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from omni_fulfillment.domain.hours import Holiday, OpeningHours, WeeklyWindow, Window, minutes
from omni_fulfillment.rows_routing import holidays_doc, hours_doc, opening_hours

MON = date(2026, 12, 14)  # a Monday


def at(local: str) -> datetime:
    """A Shanghai wall-clock time on 2026-12-14 (a Monday) or the given date, as UTC (UTC+8)."""
    d, t = local.split(" ") if " " in local else (MON.isoformat(), local)
    h, m = map(int, t.split(":"))
    return datetime.fromisoformat(f"{d}T{h:02d}:{m:02d}:00+08:00").astimezone(UTC)


def week(*days: int, opens: str = "09:00", closes: str = "21:00") -> tuple[WeeklyWindow, ...]:
    return tuple(WeeklyWindow(d, Window.of(opens, closes)) for d in days)


STORE = OpeningHours(weekly=week(0, 1, 2, 3, 4) + week(5, opens="10:00", closes="18:00"))


def test_no_window_at_all_is_always_open():
    assert OpeningHours().closed_why(at("03:00")) is None
    assert OpeningHours().always_open


def test_open_inside_a_window_closed_outside_with_when_it_opens():
    assert STORE.closed_why(at("09:00")) is None
    assert STORE.closed_why(at("20:59")) is None
    assert STORE.closed_why(at("08:30")) == "closed: opens 09:00 Asia/Shanghai"
    assert STORE.closed_why(at("21:00")) == "closed: opens Tue 2026-12-15 09:00 Asia/Shanghai"
    # Saturday evening: Sunday has no window, so Monday
    assert STORE.closed_why(at("2026-12-19 19:00")) == "closed: opens Mon 2026-12-21 09:00 Asia/Shanghai"
    assert STORE.closed_why(at("2026-12-19 09:30")) == "closed: opens 10:00 Asia/Shanghai"


def test_the_windows_are_the_nodes_local_time():
    tokyo = OpeningHours("Asia/Tokyo", week(0))  # UTC+9: 09:00 in Tokyo is 08:00 in Shanghai
    assert tokyo.closed_why(at("08:00")) is None
    assert tokyo.closed_why(at("07:59")) == "closed: opens 09:00 Asia/Tokyo"


def test_a_holiday_closes_the_day_or_sets_special_hours():
    hours = OpeningHours(
        weekly=week(0, 1, 2),
        holidays=(
            Holiday(MON, (), "Staff day"),
            Holiday(date(2026, 12, 15), (Window.of("12:00", "16:00"),)),
        ),
    )
    assert hours.closed_why(at("10:00")) == (
        "closed: holiday 2026-12-14 Staff day; opens Tue 2026-12-15 12:00 Asia/Shanghai"
    )
    assert hours.closed_why(at("2026-12-15 13:00")) is None
    assert hours.closed_why(at("2026-12-15 10:00")) == (
        "closed: holiday 2026-12-15 (open 12:00-16:00); opens 12:00 Asia/Shanghai"
    )
    assert hours.closed_why(at("2026-12-16 10:00")) is None  # Wednesday: its weekly window


def test_a_window_to_midnight_and_one_from_midnight_cover_a_night():
    night = OpeningHours(
        weekly=(WeeklyWindow(0, Window.of("22:00", "24:00")), WeeklyWindow(1, Window.of("00:00", "02:00")))
    )
    assert night.closed_why(at("23:59")) is None
    assert night.closed_why(at("2026-12-15 01:00")) is None
    assert night.closed_why(at("2026-12-15 02:00")) == "closed: opens Mon 2026-12-21 22:00 Asia/Shanghai"


def test_never_opening_in_the_next_two_weeks_says_so():
    shut = OpeningHours(weekly=week(0), holidays=(Holiday(date(2026, 12, 21)), Holiday(date(2026, 12, 28))))
    assert shut.closed_why(at("22:00")) == "closed: no opening hours in the next 14 days"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Window.of("21:00", "09:00"), "opens before it closes"),
        (lambda: Window.of("9:00", "10:00"), "is not a time of day HH:MM"),
        (lambda: Window.of("24:30", "24:00"), "between 00:00 and 24:00"),
        (lambda: OpeningHours("Mars/Olympus"), "unknown time zone 'Mars/Olympus'"),
        (lambda: OpeningHours(weekly=week(0) + week(0, opens="20:00", closes="22:00")), "overlap"),
        (lambda: OpeningHours(holidays=(Holiday(MON), Holiday(MON))), "holiday 2026-12-14 is given twice"),
        (lambda: WeeklyWindow(7, Window(0, 60)), r"is not 0 \(Monday\) \.\. 6 \(Sunday\)"),
    ],
)
def test_hours_that_do_not_hold_together_are_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_documents_round_trip():
    hours = opening_hours(
        "Asia/Shanghai",
        [
            {"day": "sat", "opens": "10:00", "closes": "18:00"},
            {"day": "mon", "opens": "09:00", "closes": "24:00"},
        ],
        [{"date": "2026-10-01", "name": "National Day", "windows": []}],
    )
    assert minutes("24:00") == 1440
    assert hours_doc(hours) == [
        {"day": "mon", "opens": "09:00", "closes": "24:00"},
        {"day": "sat", "opens": "10:00", "closes": "18:00"},
    ]
    assert holidays_doc(hours) == [{"date": "2026-10-01", "name": "National Day", "windows": []}]
    with pytest.raises(ValueError, match="day 'someday' is not one of mon"):
        opening_hours("Asia/Shanghai", [{"day": "someday", "opens": "09:00", "closes": "10:00"}], [])
