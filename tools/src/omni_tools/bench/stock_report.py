"""`make bench-stock`'s arithmetic and its one table, pure (tested in tools/tests/test_bench_stock.py):
matching stock changes to the pushes the simulator received, counters from Prometheus text, the rows."""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rich.markup import escape
from rich.table import Table

from .stats import Goal, fmt_met, fmt_ratio, met, percentile, ratio

UPDATE = "taobao.item.quantity.update"
GOALS = {"p99": Goal("<=", 1_000, "ms"), "equal": Goal("==", 1), "over": Goal("==", 0, "units")}
_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


# -- pure helpers -------------------------------------------------------------------------------------------
def metric_sum(text: str, name: str, **labels: str) -> float:
    """The sum of every sample of `name` (Prometheus text format) whose labels include `labels`."""
    total = 0.0
    for line in text.splitlines():
        m = _SAMPLE.match(line)
        if not m or m.group(1) != name:
            continue
        have = dict(_LABEL.findall(m.group(3) or ""))
        if all(have.get(k) == v for k, v in labels.items()):
            total += float(m.group(4))
    return total


def call_key(call: dict[str, Any]) -> tuple[float, str, str, str]:
    p = call.get("params", {})
    return (call["at"], call.get("method", ""), p.get("num_iid", ""), p.get("quantity", ""))


def merge_calls(seen: dict[tuple, dict[str, Any]], calls: Iterable[dict[str, Any]]) -> int:
    """Add the simulator's calls to `seen` (keyed by time, method, item, quantity); how many were new."""
    new = 0
    for c in calls:
        k = call_key(c)
        if k not in seen:
            seen[k] = c
            new += 1
    return new


def pushes_of(
    calls: Iterable[dict[str, Any]], num_iid: str, since: float = 0.0, until: float = float("inf")
) -> list[tuple[float, int]]:
    """(at, quantity) of each acknowledged full quantity update of one item in [since, until], by time."""
    out = []
    for c in calls:
        p = c.get("params", {})
        if c.get("method") != UPDATE or c.get("outcome") != "ok" or p.get("num_iid") != num_iid:
            continue
        if p.get("type", "1") != "1" or not since <= c["at"] <= until:
            continue
        out.append((c["at"], int(p["quantity"])))
    return sorted(out)


def match_latencies(
    changes: Sequence[tuple[float, int]], pushes: Sequence[tuple[float, int]]
) -> list[float | None]:
    """Seconds from each stock change (at, the listing quantity it makes) to the first push at or after it
    that carries that quantity or a later one (quantities only rise: a coalesced change is reflected by the
    push of a later number); None when no push reflects it."""
    pushes = sorted(pushes)
    times = [at for at, _ in pushes]
    out: list[float | None] = []
    for at, qty in changes:
        i = bisect.bisect_left(times, at)
        hit = next((t for t, q in pushes[i:] if q >= qty), None)
        out.append(None if hit is None else hit - at)
    return out


def per_second(times: Sequence[float]) -> float | None:
    """Events per second between the first and the last of `times`."""
    if len(times) < 2:
        return None
    span = max(times) - min(times)
    return (len(times) - 1) / span if span > 0 else None


def ms_pcts(seconds: Sequence[float]) -> tuple[float | None, float | None, float | None]:
    ms = [s * 1000 for s in seconds]
    return percentile(ms, 50), percentile(ms, 99), (max(ms) if ms else None)


# -- results ------------------------------------------------------------------------------------------------
@dataclass
class Usage:
    """A phase's CPU (% of one core, per process group) and the channel service's RSS, from /proc."""

    seconds: float
    cpu: dict[str, float] = field(default_factory=dict)
    rss_peak_mb: float | None = None
    rss_end_mb: float | None = None


@dataclass
class Latency:
    label: str
    changes: int
    seconds: float
    latencies: list[float | None] = field(default_factory=list)
    listing_events: int = 0  # published seq delta of the bench listing
    pushes: int = 0  # acknowledged updates of its item the simulator received
    counters: dict[str, float] = field(default_factory=dict)  # pipeline-wide deltas (metrics, the sim)
    orders: str | None = None  # the order load: what was published, what got allocated
    note: str | None = None
    sent_latencies: list[float | None] = field(default_factory=list)  # from the receipt POST sent
    cadence: float | None = None  # receipts/s actually sent
    base: int | None = None  # the listing's number before
    outbox: dict[str, tuple[int, float, float]] = field(default_factory=dict)  # type -> (n, p50 s, p99 s)


@dataclass
class HotStock:
    n: int
    reserve_rate: float | None = None
    reserved: int = 0
    listing_events: int = 0
    pushes: int = 0
    pushes_per_s: float | None = None
    quiet_after_s: float | None = None  # from the last reservation to the simulator at the final number
    platform: int | None = None
    explained: int | None = None
    available: int | None = None
    note: str | None = None


@dataclass
class StockResults:
    tag: str
    bus_batched: float | None = None  # events/s
    bus_single_p50_ms: float | None = None  # one event, outbox -> Kafka -> inbox -> DB
    quiet: Latency | None = None
    loaded: Latency | None = None
    hot: HotStock | None = None
    usage: dict[str, Usage] = field(default_factory=dict)  # phase -> usage
    skipped: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Row:
    section: str
    name: str
    measured: str
    goal: str = "—"
    met: str = "—"
    vs: str = "—"


def _n(x: float | None, unit: str = "", digits: int = 0) -> str:
    return "—" if x is None else f"{x:,.{digits}f}" + (f" {unit}" if unit else "")


def _vs(value: float | None, base: float | None, what: str) -> str:
    r = ratio(value, base)
    return "—" if r is None else f"{fmt_ratio(r)} {what}"


def _latency_rows(out: list[Row], sec: str, lat: Latency, res: StockResults, quiet: Latency | None) -> None:
    done = [x for x in lat.latencies if x is not None]
    p50, p99, mx = ms_pcts(done)
    q50, q99, _ = ms_pcts([x for x in quiet.latencies if x is not None]) if quiet else (None, None, None)
    vs50 = _vs(p50, q50, "quiet") if quiet else "—"
    out.append(Row(sec, "stock change (movement) → simulator got the push, p50", _n(p50, "ms"), vs=vs50))
    ok = fmt_met(met(p99, GOALS["p99"]), True)
    vs99 = _vs(p99, q99, "quiet") if quiet else "—"
    out.append(
        Row(
            sec,
            "stock change (movement) → simulator got the push, p99",
            _n(p99, "ms"),
            str(GOALS["p99"]),
            ok,
            vs99,
        )
    )
    out.append(
        Row(sec, "  max; changes a push never reflected", f"{_n(mx, 'ms')}; {lat.changes - len(done)}")
    )
    s50, s99, _ = ms_pcts([x for x in lat.sent_latencies if x is not None])
    if s50 is not None:
        out.append(Row(sec, "  from the receipt POST sent (client), p50 / p99", f"{_n(s50)} / {_n(s99)} ms"))
    if lat.cadence:
        out.append(Row(sec, "  stock changes sent", _n(lat.cadence, "/s", 1)))
    out.append(
        Row(
            sec,
            "  coalescing, bench listing: changes → listing events → pushes",
            f"{lat.changes:,} → {lat.listing_events:,} → {lat.pushes:,}",
            vs=_vs(lat.pushes, lat.changes, "changes"),
        )
    )
    c = lat.counters
    if c:
        chain = (
            f"{c.get('stock_changed', 0):,.0f} → {c.get('listing_events', 0):,.0f} → "
            f"{c.get('acknowledged', 0):,.0f} ack / {c.get('sim_updates', 0):,.0f} at the sim"
        )
        out.append(
            Row(
                sec,
                "  coalescing, pipeline: stock-changed → listing-stock-changed → pushes",
                chain,
                vs=_vs(c.get("listing_events"), c.get("stock_changed"), "stock-changed"),
            )
        )
        n = c.get("push_latency_count", 0)
        if n:
            mean = c.get("push_latency_sum", 0) / n * 1000
            out.append(
                Row(
                    sec,
                    "  of which computed → acknowledged (channel's histogram, mean of all pushes)",
                    _n(mean, "ms"),
                )
            )
    if lat.outbox:
        shown = "; ".join(f"{t.removeprefix('inventory.')} {_n(p50 * 1000)} / {_n(p99 * 1000)} ms ({n:,})"
                          for t, (n, p50, p99) in sorted(lat.outbox.items()))  # fmt: skip
        out.append(Row(sec, "  of which in inventory's outbox (created → sent), p50 / p99", shown))
    if lat.orders:
        out.append(Row(sec, "  order load", lat.orders))
    if lat.note:
        out.append(Row(sec, "  note", lat.note))


def rows(res: StockResults) -> list[Row]:
    out: list[Row] = []
    if res.bus_batched is not None:
        sec = "bus baseline (omni_chassis.bench_bus), this broker and database"
        out.append(Row(sec, "chassis outbox → Kafka → inbox → DB, batched", _n(res.bus_batched, "events/s")))
    if res.quiet:
        q = res.quiet
        sec = f"latency, quiet: {q.changes:,} receipts of 1 unit at STORE-SH-01, {q.seconds:.0f} s, no orders"
        _latency_rows(out, sec, q, res, None)
    if res.loaded:
        ld = res.loaded
        sec = f"latency under load: {ld.changes:,} receipts over {ld.seconds:.0f} s while orders flow"
        _latency_rows(out, sec, ld, res, res.quiet)
    if res.hot:
        h = res.hot
        sec = f"hot SKU: {h.n:,} reservations on one (node, material) with a listing on it"
        out.append(
            Row(
                sec,
                "reserve rate",
                _n(h.reserve_rate, "reservations/s"),
                vs=_vs(h.reserve_rate, res.bus_batched, "bus"),
            )
        )
        out.append(
            Row(
                sec,
                "pushes received by the simulator (first → last)",
                _n(h.pushes_per_s, "pushes/s", 1),
                vs=_vs(h.pushes_per_s, h.reserve_rate, "reserve rate"),
            )
        )
        out.append(
            Row(
                sec,
                "  coalescing: reservations → listing events → pushes",
                f"{h.reserved:,} → {h.listing_events:,} → {h.pushes:,}",
                vs=_vs(h.pushes, h.reserved, "reservations"),
            )
        )
        out.append(
            Row(sec, "  last reservation → the simulator shows the final number", _n(h.quiet_after_s, "s", 2))
        )
        same = None if h.platform is None or h.explained is None else int(h.platform == h.explained)
        out.append(
            Row(
                sec,
                "at quiet: simulator = GET /listings/{id}/stock",
                f"{_n(h.platform)} vs {_n(h.explained)}",
                "equal",
                fmt_met(met(same, GOALS["equal"]), True),
            )
        )
        over = None if h.platform is None or h.available is None else max(0, h.platform - h.available)
        out.append(
            Row(
                sec,
                "at quiet: simulator above the material's available",
                f"{_n(over, 'units')} (available {_n(h.available)})",
                str(GOALS["over"]),
                fmt_met(met(over, GOALS["over"]), True),
            )
        )
        if h.note:
            out.append(Row(sec, "  note", h.note))
    if res.usage:
        sec = "channel service (the push worker's process): CPU % of one core, RSS"
        base = res.usage.get("idle")
        for phase, u in res.usage.items():
            cpu = u.cpu.get("channel")
            shown = (
                f"{_n(cpu, '%', 1)}; RSS peak {_n(u.rss_peak_mb, 'MB')}, end {_n(u.rss_end_mb, 'MB')}; "
                f"inventory {_n(u.cpu.get('inventory'), '%')}"
            )
            vs = _vs(cpu, base.cpu.get("channel") if base and phase != "idle" else None, "idle")
            out.append(Row(sec, f"{phase} ({u.seconds:.0f} s)", shown, vs=vs))
    for phase, why in res.skipped.items():
        out.append(Row("not measured", phase, why))
    return out


def render(res: StockResults) -> Table:
    t = Table(title=f"omni bench-stock, run {res.tag}: stock sync to the platform", title_justify="left")
    for name, kw in (
        ("target", {}),
        ("measured", {"justify": "right"}),
        ("goal", {"justify": "right"}),
        ("met", {"justify": "center"}),
        ("vs baseline", {"justify": "right"}),
    ):
        t.add_column(name, **kw)
    section, style = None, {"yes": "[green]yes[/]", "NO": "[bold red]NO[/]", "n/a": "[yellow]n/a[/]"}
    for row in rows(res):
        if row.section != section:
            if section is not None:
                t.add_section()
            t.add_row(f"[bold]{escape(row.section)}[/]", "", "", "", "")
            section = row.section
        name = f"[dim]{escape(row.name)}[/]" if row.name.startswith("  ") else escape(row.name)
        t.add_row(name, escape(row.measured), row.goal, style.get(row.met, row.met), row.vs)
    t.caption = (
        "latency: from the inventory movement's `at` (the receipt's stock change) to the simulator's "
        "`at` of the first "
        "acknowledged taobao.item.quantity.update carrying that number (or a later one); counts from the "
        "simulator's call log, the services' /metrics and the listing's published seq; CPU and RSS from /proc"
    )
    return t
