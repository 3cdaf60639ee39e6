"""The benchmark's arithmetic, pure (tested in tools/tests/test_bench_stats.py and test_bench_targets.py):
percentiles, rates, latencies, targets met or not, ratios to the bus baseline, pool sizes, sign times."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

WEBHOOK_CLOCK_SKEW = timedelta(minutes=10)  # the channel refuses a `timestamp` further than this from now
MAX_PHASE_SECONDS = 1_000  # one pre-signed timestamp must stay within the skew for the whole phase


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100), linear between closest ranks (numpy's default); None for no values."""
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} is not within 0..100")
    if not values:
        return None
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def rate(count: int, first: datetime | float | None, last: datetime | float | None) -> float | None:
    """Events per second over [first, last] (datetimes or seconds); None when the span is empty or unknown."""
    if first is None or last is None or count <= 0:
        return None
    span = (last - first).total_seconds() if isinstance(last, datetime) else last - first  # type: ignore[operator]
    return count / span if span > 0 else None


def latencies_ms(start: dict[str, datetime], end: dict[str, datetime]) -> list[float]:
    """Milliseconds from start[k] to end[k] for every key in both."""
    return [(end[k] - start[k]).total_seconds() * 1000 for k in start.keys() & end.keys()]


def sustained(start: dict[str, datetime], end: dict[str, datetime]) -> float | None:
    """Orders/s through a stage: orders that reached it / (last reached − first started)."""
    keys = start.keys() & end.keys()
    if not keys:
        return None
    return rate(len(keys), min(start[k] for k in keys), max(end[k] for k in keys))


def sustained_since(started: datetime | None, end: dict[str, datetime]) -> float | None:
    """Orders/s of a burst sent from `started` on: orders that reached the stage / (last one − started)."""
    if not end or started is None:
        return None
    return rate(len(end), started, max(end.values()))


def fmt_pcts(values: Sequence[float]) -> str:
    ps = [percentile(values, q) for q in (50, 95, 99)]
    return "—" if ps[0] is None else " / ".join(f"{p:,.0f}" for p in ps) + f"  (max {max(values):,.0f})"


def fmt_rate(r: float | None, unit: str = "orders/s") -> str:
    return "—" if r is None else f"{r:,.1f} {unit}"


# -- targets ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Goal:
    """A target: `op` is one of >=, <=, <, ==; `unit` is only for display."""

    op: str
    value: float
    unit: str = ""

    def __post_init__(self) -> None:
        if self.op not in (">=", "<=", "<", "=="):
            raise ValueError(f"unknown comparison {self.op!r}")

    def __str__(self) -> str:
        sign = {">=": "≥", "<=": "≤", "<": "<", "==": "="}[self.op]
        value = f"{self.value:,.0f}" if self.value == int(self.value) else f"{self.value:,g}"
        return f"{sign} {value}" + (f" {self.unit}" if self.unit else "")


def met(value: float | None, goal: Goal | None) -> bool | None:
    """Whether `value` meets `goal`; None when there is no goal or nothing was measured."""
    if goal is None or value is None:
        return None
    if goal.op == ">=":
        return value >= goal.value
    if goal.op == "<=":
        return value <= goal.value
    if goal.op == "<":
        return value < goal.value
    return value == goal.value


def fmt_met(ok: bool | None, has_goal: bool) -> str:
    """yes / NO; `n/a` for a target that was not measured; `—` for a row without a target."""
    if not has_goal:
        return "—"
    if ok is None:
        return "n/a"
    return "yes" if ok else "NO"


def ratio(value: float | None, base: float | None) -> float | None:
    """value / base; None when either is missing or the base is 0."""
    if value is None or not base:
        return None
    return value / base


def fmt_ratio(r: float | None) -> str:
    if r is None:
        return "—"
    if r >= 10:
        return f"{r:,.0f}×"
    return f"{r:.2f}×" if r >= 0.1 else f"{r:.3f}×"


# -- sizing the load --------------------------------------------------------------------------------------
def half_rate(max_sustained: float | None) -> float | None:
    """The paced phase's rate: half the sustained maximum (None when none was measured)."""
    return None if not max_sustained else max_sustained / 2


def pool_size(seconds: float, per_second: float, margin: float = 0.0) -> int:
    """How many pre-signed requests a phase of `seconds` at up to `per_second` needs (at least 1)."""
    return max(1, math.ceil(seconds * per_second * (1 + margin)))


def sign_at(built: datetime, seconds: float) -> datetime:
    """One `timestamp` for every request of a phase that starts after `built` and lasts `seconds`: the
    phase's middle (plus a minute for the setup between building and sending), so it stays within the
    webhook's ±10 min for the whole phase as long as it is at most MAX_PHASE_SECONDS."""
    if seconds > MAX_PHASE_SECONDS:
        raise ValueError(f"a phase of {seconds:,.0f} s is longer than {MAX_PHASE_SECONDS:,} s")
    return built + timedelta(seconds=seconds / 2 + 60)
