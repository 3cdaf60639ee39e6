"""The one table of a run: per target the measured value, the target, met or not, and the ratio to the bus
baseline of the same run (rates ÷ the chassis' batched outbox → Kafka → inbox → DB hop). `rows` is pure."""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.markup import escape
from rich.table import Table

from .bus import Bus
from .hot import Hot
from .procs import IdleCpu, Rss
from .rules_phase import RulesRun
from .stats import Goal, fmt_met, fmt_ratio, met, percentile, ratio
from .watch import Flow

GOALS = {
    "idle": Goal("<", 5, "% of a core"),
    "webhook": Goal(">=", 1_000, "orders/s"),
    "kafka": Goal(">=", 2_000, "orders/s"),
    "p50": Goal("<=", 25, "ms"),
    "p99": Goal("<=", 150, "ms"),
    "answer_p99": Goal("<=", 20, "ms"),
    "hot_ratio": Goal(">=", 0.5, "× spread"),
    "oversold": Goal("==", 0, "rows"),
    "rss": Goal("<=", 150, "MB"),
}


@dataclass
class Results:
    tag: str
    concurrency: int = 64
    idle: IdleCpu | None = None
    bus: Bus | None = None
    hot: Hot | None = None
    kafka: Flow | None = None
    webhook: Flow | None = None
    paced: Flow | None = None
    rules: RulesRun | None = None
    rss: Rss | None = None
    rss_idle: Rss | None = None  # before the load, to see growth
    skipped: dict[str, str] = field(default_factory=dict)  # phase -> why it has no numbers
    paced_basis: str = "half the max"
    client_phase: dict[str, float | None] = field(default_factory=dict)  # the bench's CPU over each phase


@dataclass(frozen=True)
class Row:
    section: str
    name: str
    measured: str
    goal: str = "—"
    met: str = "—"
    vs_bus: str = "—"


def _n(x: float | None, unit: str = "", digits: int = 0) -> str:
    return "—" if x is None else f"{x:,.{digits}f}" + (f" {unit}" if unit else "")


def _pct(share: float | None) -> str:
    return "—" if share is None else f"{share * 100:.0f}"


def _rate(x: float | None, unit: str = "orders/s") -> str:
    return _n(x, unit, 1 if x is not None and x < 100 else 0)


class _Rows:
    def __init__(self, bus: Bus | None) -> None:
        self.out: list[Row] = []
        self.section = ""
        self.base = bus.chassis_batched if bus else None

    def target(self, name: str, value: float | None, shown: str, goal: Goal | None, vs: bool = False) -> None:
        vs_bus = fmt_ratio(ratio(value, self.base)) if vs else "—"
        ok = fmt_met(met(value, goal), goal is not None)
        self.out.append(
            Row(self.section, name, shown if value is not None else "—", str(goal or "—"), ok, vs_bus)
        )

    def info(self, name: str, shown: str) -> None:
        self.out.append(Row(self.section, name, shown))


def _flow_notes(r: _Rows, f: Flow) -> None:
    p = f.pushed
    if p.refused:
        r.info("  refused", ", ".join(f"{c:,} × {w}" for w, c in p.refused.most_common(2)))
    if p.retries:
        r.info("  retried", ", ".join(f"{c:,} × {w}" for w, c in p.retries.most_common(2)))
    if f.exceptions:
        r.info("  exceptions", ", ".join(f"{c:,} × {w}" for w, c in f.exceptions.most_common(2)))
    if f.unfinished:
        r.info("  unfinished", f.unfinished)


def _answers(p) -> str:
    p50, p99 = percentile(p.latencies_ms, 50), percentile(p.latencies_ms, 99)
    accept = len(p.tids) / p.seconds if p.seconds else None
    return (
        f"{len(p.tids):,} in {p.seconds:,.1f} s = {_n(accept, '/s')}; answer p50 {_n(p50)} / p99 {_n(p99)} ms"
    )


def _rules_rows(r: _Rows, x: RulesRun) -> None:
    others = f" (other strategies match the shop: {', '.join(x.others)})" if x.others else ""
    r.section = f"rules engine: {x.n:,} orders onto omni.channel.orders, no strategy, then 50 rules{others}"
    halves = (
        ("no strategy: published → allocated", x.without),
        ("50 rules: published → allocated", x.with_rules),
    )
    for name, f in halves:
        if f is not None:
            r.target(name, f.to_allocated, _rate(f.to_allocated), None, vs=True)
    if x.ratio is not None:
        r.target("50 rules ÷ none (orders/s)", x.ratio, f"{x.ratio:.2f}×", None)
    if x.with_rules is not None:
        held = f"; {x.held:,} held" if x.held else ""
        r.info("  reviewed by the 50 rules", f"{x.applied:,} of {len(x.with_rules.pushed.tids):,}{held}")
    for name, f in (("none", x.without), ("50 rules", x.with_rules)):
        if f is not None and f.exceptions:
            r.info(
                f"  exceptions ({name})", ", ".join(f"{c:,} × {w}" for w, c in f.exceptions.most_common(2))
            )
        if f is not None and f.unfinished:
            r.info(f"  unfinished ({name})", f.unfinished)


def rows(res: Results) -> list[Row]:
    """Every row of the table, in phase order; a phase that did not run says why."""
    r = _Rows(res.bus)
    if res.idle:
        i = res.idle
        r.section = f"idle: the whole stack, no traffic, {i.seconds:.0f} s"
        r.target("stack CPU (services, Kafka, PostgreSQL)", i.total, f"{i.total:.1f} %", GOALS["idle"])
        top = ", ".join(f"{g} {p:.1f}" for g, p in list(i.groups.items())[:5])
        started = f", {i.started} started within it" if i.started else ""
        r.info("  biggest (% of a core)", f"{top} ({i.processes} processes{started})")
        if i.restarted:
            r.info("  [not idle] restarted within it", ", ".join(i.restarted))
    if res.bus:
        b = res.bus
        r.section = "bus baseline, this broker and this database"
        r.info("aiokafka produce / consume, 1 KB", f"{b.raw_produce:,.0f} / {b.raw_consume:,.0f} msg/s")
        r.info("FastStream consume → publish, one in flight", f"{b.faststream:,.0f} events/s")
        r.info("chassis outbox → Kafka → inbox → DB, per event", f"{b.chassis_single:,.0f} events/s")
        r.target(
            "chassis outbox → Kafka → inbox → DB, batched",
            b.chassis_batched,
            f"{b.chassis_batched:,.0f} events/s",
            None,
            vs=True,
        )
    if res.hot:
        h = res.hot
        r.section = f"hot SKU: {h.n:,} reservations at the inventory's input"
        r.target(
            f"reserve, {h.n:,} orders on {h.n:,} SKUs",
            h.spread.rate,
            _rate(h.spread.rate, "reservations/s"),
            None,
            vs=True,
        )
        r.target(
            f"reserve, {h.n:,} orders on one (node, material)",
            h.hot.rate,
            _rate(h.hot.rate, "reservations/s"),
            None,
            vs=True,
        )
        hot_ratio = ratio(h.hot.rate, h.spread.rate)
        r.target("hot ÷ spread", hot_ratio, f"{hot_ratio or 0:.2f}×", GOALS["hot_ratio"])
        r.target("oversold stock rows", len(h.oversold), f"{len(h.oversold):,}", GOALS["oversold"])
        for name, s in (("spread", h.spread), ("hot", h.hot)):
            if s.refused or s.unfinished or s.reserved != s.n:
                r.info(
                    f"  {name}",
                    f"{s.reserved:,} reserved, {s.refused:,} refused"
                    + (f"; {s.unfinished}" if s.unfinished else ""),
                )
        for bad in h.oversold[:3]:
            r.info("  oversold", bad)
    if res.kafka:
        k = res.kafka
        r.section = f"Kafka intake: {len(k.pushed.tids):,} orders at once onto omni.channel.orders"
        r.target(
            "published → allocated, sustained",
            k.to_allocated,
            _rate(k.to_allocated),
            GOALS["kafka"],
            vs=True,
        )
        r.target("published → sale voucher", k.to_voucher, _rate(k.to_voucher), None, vs=True)
        _flow_notes(r, k)
    if res.webhook:
        w = res.webhook
        used_up = w.pushed.limit_s and w.pushed.exhausted  # the stack took every request before the time
        how = f"{w.pushed.seconds:,.0f} s" + (", every pre-signed request used up" if used_up else "")
        r.section = (
            f"signed webhooks through the gateway, as fast as possible ({res.concurrency} in flight, {how})"
        )
        r.target(
            "webhook → sale voucher, sustained",
            w.to_voucher,
            _rate(w.to_voucher),
            GOALS["webhook"],
            vs=True,
        )
        r.target("webhook → allocated, sustained", w.to_allocated, _rate(w.to_allocated), None, vs=True)
        r.info("accepted by the webhook (client side)", _answers(w.pushed))
        _flow_notes(r, w)
    if res.paced:
        p = res.paced
        r.section = f"webhooks paced at {p.rate:,.1f} orders/s ({res.paced_basis}), {p.pushed.seconds:,.0f} s"
        p50, p99 = percentile(p.allocated_ms, 50), percentile(p.allocated_ms, 99)
        answer = percentile(p.pushed.latencies_ms, 99)
        r.target("webhook → allocated p50", p50, _n(p50, "ms"), GOALS["p50"])
        r.target("webhook → allocated p99", p99, _n(p99, "ms"), GOALS["p99"])
        r.target("webhook answer p99 (client side)", answer, _n(answer, "ms", 1), GOALS["answer_p99"])
        r.info("accepted by the webhook (client side)", _answers(p.pushed))
        _flow_notes(r, p)
    if res.rules:
        _rules_rows(r, res.rules)
    if res.rss:
        r.section = "memory after the load (VmRSS)"
        idle = res.rss_idle or Rss()
        for svc, mb in res.rss.mb.items():
            was = f" (idle {idle.mb[svc]:,.0f})" if svc in idle.mb else ""
            if svc in idle.pids and idle.pids[svc] != res.rss.pids.get(svc):
                was = " (restarted since idle)"
            r.target(f"RSS {svc}", mb, f"{mb:,.0f} MB{was}", GOALS["rss"])
    sending = {n: f.pushed.clock.share for n, f in (("webhook", res.webhook), ("paced", res.paced)) if f}
    shares = [
        f"{name} {_pct(whole)}" + (f" ({_pct(sending[name])} while sending)" if name in sending else "")
        for name, whole in res.client_phase.items()
    ]
    if shares:
        r.section = "the load generator (this process, on the same machine)"
        r.info("its CPU over each phase, % of one core", ", ".join(shares))
    for phase, why in res.skipped.items():
        r.section = "not measured"
        r.info(phase, why)
    return r.out


def render(res: Results) -> Table:
    t = Table(title=f"omni bench, run {res.tag}: every performance target", title_justify="left")
    for name, kw in (
        ("target", {}),
        ("measured", {"justify": "right"}),
        ("goal", {"justify": "right"}),
        ("met", {"justify": "center"}),
        ("vs bus", {"justify": "right"}),
    ):
        t.add_column(name, **kw)
    section = None
    style = {"yes": "[green]yes[/]", "NO": "[bold red]NO[/]", "n/a": "[yellow]n/a[/]"}
    for row in rows(res):
        if row.section != section:
            if section is not None:
                t.add_section()
            t.add_row(f"[bold]{escape(row.section)}[/]", "", "", "", "")
            section = row.section
        name = f"[dim]{escape(row.name)}[/]" if row.name.startswith("  ") else escape(row.name)
        t.add_row(name, escape(row.measured), row.goal, style.get(row.met, row.met), row.vs_bus)
    t.caption = (
        "from the services' own timestamps (orders.received_at, order_status_history.at, vouchers.posted_at, "
        "reservations.created_at; Kafka intake and hot SKU counted from the first record published); webhook "
        "answers and the load generator's CPU from the client; CPU from /proc/<pid>/stat (% of one core); "
        "vs bus = ÷ the chassis' batched hop of this run"
    )
    return t
