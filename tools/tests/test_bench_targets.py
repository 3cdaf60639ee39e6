"""The one-run bench's pure parts: targets met or not, ratios, sizing, sign times, /proc arithmetic, hot-SKU
oversold rows, phase selection, the table's rows and the flows' numbers."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from omni_tools.bench import select_phases
from omni_tools.bench.bus import Bus
from omni_tools.bench.hot import Hot, Reserving, oversold
from omni_tools.bench.orders import signed_pool
from omni_tools.bench.procs import (
    Clock,
    IdleCpu,
    Rss,
    Stat,
    by_group,
    classify,
    cpu_percent,
    parse_stat,
    parse_vmrss_kb,
)
from omni_tools.bench.push import Push
from omni_tools.bench.stats import (
    MAX_PHASE_SECONDS,
    Goal,
    fmt_met,
    fmt_ratio,
    half_rate,
    met,
    pool_size,
    ratio,
    sign_at,
    sustained_since,
)
from omni_tools.bench.table import Results, render, rows
from omni_tools.bench.watch import Flow, Seen, summarize

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def at(ms: float) -> datetime:
    return T0 + timedelta(milliseconds=ms)


# -- targets and ratios -----------------------------------------------------------------------------------
def test_met_compares_each_way_and_says_nothing_without_a_value_or_a_goal():
    assert met(1000, Goal(">=", 1000)) is True
    assert met(999.9, Goal(">=", 1000)) is False
    assert met(25, Goal("<=", 25)) is True and met(25.1, Goal("<=", 25)) is False
    assert met(5, Goal("<", 5)) is False and met(4.99, Goal("<", 5)) is True
    assert met(0, Goal("==", 0)) is True and met(1, Goal("==", 0)) is False
    assert met(None, Goal(">=", 1)) is None
    assert met(3, None) is None
    with pytest.raises(ValueError):
        Goal("=>", 1)


def test_goal_and_met_as_shown():
    assert str(Goal(">=", 1000, "orders/s")) == "≥ 1,000 orders/s"
    assert str(Goal("<=", 0.5)) == "≤ 0.5"
    assert str(Goal("<", 5, "%")) == "< 5 %"
    assert [fmt_met(True, True), fmt_met(False, True), fmt_met(None, True), fmt_met(None, False)] == [
        "yes",
        "NO",
        "n/a",
        "—",
    ]


def test_ratio_to_the_baseline():
    assert ratio(306, 6122) == pytest.approx(0.04998, rel=1e-3)
    assert ratio(None, 10) is None and ratio(10, None) is None and ratio(10, 0) is None
    assert fmt_ratio(0.04998) == "0.050×"
    assert fmt_ratio(0.5) == "0.50×"
    assert fmt_ratio(12.4) == "12×"
    assert fmt_ratio(None) == "—"


def test_half_rate_and_pool_size():
    assert half_rate(35.0) == 17.5
    assert half_rate(None) is None and half_rate(0.0) is None
    assert pool_size(60, 1250) == 75_000
    assert pool_size(10, 17.5, margin=0.05) == 184  # ceil(183.75)
    assert pool_size(0, 100) == 1


def test_one_sign_time_stays_valid_for_the_whole_phase_by_the_channels_own_rule():
    from omni_channel.domain.signing import format_china_time, timestamp_problem

    for seconds in (10, 60, 600, MAX_PHASE_SECONDS):
        ts = format_china_time(sign_at(T0, seconds))
        setup = timedelta(seconds=120)  # building, top-up, between building and the first send
        for now in (T0, T0 + setup, T0 + setup + timedelta(seconds=seconds)):
            assert timestamp_problem(ts, now) is None, (seconds, now)
    with pytest.raises(ValueError):
        sign_at(T0, MAX_PHASE_SECONDS + 1)


def test_the_pre_signed_requests_pass_the_channels_signature_check():
    from omni_channel.domain.signing import signature_matches, timestamp_problem
    from omni_tools.catalog import SHOP

    reqs, need = signed_pool(20, "123456", 3, 1_000_000_000, "http://gw:8000/", at=T0)
    assert len({r.tid for r in reqs}) == 20 and all(r.tid.startswith("41234561") for r in reqs)
    assert sum(need.values()) > 0
    for r in reqs:
        assert str(r.url).startswith("http://gw:8000/channels/tmall/orders?")
        query = dict(r.url.query)
        sign = query.pop("sign")
        assert signature_matches(query, r.body, SHOP["secret"], query["sign_method"], sign)
        assert timestamp_problem(query["timestamp"], T0) is None


def test_sustained_since_a_burst_counts_from_its_start():
    end = {"a": at(500), "b": at(2000)}
    assert sustained_since(at(0), end) == pytest.approx(1.0)  # 2 orders over 2 s
    assert sustained_since(None, end) is None
    assert sustained_since(at(0), {}) is None


# -- /proc ------------------------------------------------------------------------------------------------
STAT = "4857 (python) S 3405 4857 4857 0 -1 4194560 2 0 0 0 731 96 0 0 20 0 5 0 28003 1 2 3"


def test_parse_stat_reads_ticks_parent_and_start_even_with_a_strange_name():
    s = parse_stat(STAT)
    assert (s.pid, s.comm, s.ppid, s.ticks, s.start) == (4857, "python", 3405, 827, 28003)
    odd = parse_stat(STAT.replace("(python)", "(a b) (c))"))
    assert (odd.comm, odd.ppid, odd.ticks, odd.start) == ("a b) (c)", 3405, 827, 28003)


def test_parse_vmrss():
    assert parse_vmrss_kb("Name:\tpython\nVmPeak:\t 1 kB\nVmRSS:\t  105264 kB\nThreads: 5\n") == 105264
    assert parse_vmrss_kb("Name:\tkthreadd\nThreads:\t1\n") is None


def test_cpu_percent_from_two_samples():
    before = {(1, 10): 100, (2, 20): 50, (3, 30): 7}
    after = {(1, 10): 150, (2, 20): 50, (4, 40): 20}  # 3 ended, 4 started within the window
    pct = cpu_percent(before, after, seconds=10, hz=100)
    assert pct == {(1, 10): pytest.approx(5.0), (2, 20): 0.0, (4, 40): pytest.approx(2.0)}
    assert cpu_percent({(1, 1): 10}, {(1, 1): 10}, 1) == {(1, 1): 0.0}
    with pytest.raises(ValueError):
        cpu_percent(before, after, seconds=0)


def test_classify_finds_services_their_children_supervisor_kafka_and_postgres():
    procs = [
        Stat(100, "supervisord", 1, 0, 1),
        Stat(101, "python", 100, 0, 2),  # supervise.py listen
        Stat(200, "python", 100, 0, 3),
        Stat(300, "python", 100, 0, 4),
        Stat(301, "python", 300, 0, 5),  # a worker of the gateway
        Stat(400, "java", 1, 0, 6),
        Stat(401, "java", 1, 0, 7),
        Stat(500, "postgres", 1, 0, 8),
        Stat(501, "postgres", 500, 0, 9),
        Stat(600, "python", 1, 0, 10),  # this bench, or anything else
    ]
    stats = {s.pid: s for s in procs}
    cmd = {400: "java -Xmx512m kafka.Kafka server.properties", 401: "java -jar something-else.jar"}
    groups = classify(stats, cmd, {"order": 200, "gateway": 300})
    assert {pid: groups.get(stats[pid].key) for pid in stats} == {
        100: "supervisor",
        101: "supervisor",
        200: "order",
        300: "gateway",
        301: "gateway",
        400: "kafka",
        401: None,
        500: "postgres",
        501: "postgres",
        600: None,
    }
    pcts = {stats[p].key: v for p, v in ((200, 1.0), (300, 0.5), (301, 0.25), (500, 2.0), (600, 50.0))}
    assert list(by_group(pcts, groups).items()) == [("postgres", 2.0), ("order", 1.0), ("gateway", 0.75)]


# -- hot SKU ----------------------------------------------------------------------------------------------
def test_oversold_rows():
    ok = {"node_code": "N", "material_code": "A", "on_hand": 10, "reserved": 10, "frozen": 0, "received": 10}
    over = {**ok, "material_code": "B", "reserved": 9, "frozen": 2}
    unreceived = {**ok, "material_code": "C", "on_hand": 20, "reserved": 11}
    no_ledger = {k: v for k, v in unreceived.items() if k != "received"}
    bad = oversold([ok, over, unreceived, no_ledger])
    assert bad == ["B@N: reserved 9 > on hand 10", "C@N: reserved 11 > received 10"]
    assert oversold([]) == []


# -- phases -----------------------------------------------------------------------------------------------
def test_select_phases_keeps_the_fixed_order():
    assert select_phases() == ["idle", "bus", "hot", "kafka", "webhook", "paced", "rules", "rss"]
    assert select_phases("rss, idle,kafka") == ["idle", "kafka", "rss"]
    assert select_phases("all", bus=False, via="kafka") == ["idle", "hot", "kafka", "rules", "rss"]
    assert select_phases("all", via="webhook") == ["idle", "bus", "hot", "webhook", "paced", "rss"]
    with pytest.raises(ValueError):
        select_phases("idle,warp")
    with pytest.raises(ValueError):
        select_phases("all", via="carrier-pigeon")


# -- the flows' numbers and the table ---------------------------------------------------------------------
def _row(oid: str, tid: str, received: float, allocated: float | None, status: str = "allocated") -> dict:
    return {
        "order_id": oid,
        "channel_order_id": tid,
        "received_at": at(received),
        "status": status,
        "status_reason_code": None,
        "status_reason": None,
        "accepted_at": at(received + 1),
        "allocated_at": None if allocated is None else at(allocated),
        "exception_at": None,
    }


def test_summarize_a_flow_from_the_services_timestamps():
    pushed = Push(tids=["t1", "t2", "t3"], seconds=1.0)
    seen = Seen(
        orders={
            "t1": _row("o1", "t1", 0, 40),
            "t2": _row("o2", "t2", 500, 1000),
            "t3": _row("o3", "t3", 900, None, status="accepted"),
        },
        vouchered={"o1": at(100), "o2": at(2000)},
    )
    flow = summarize(pushed, seen, "no progress for 120s")
    assert flow.allocated == 2 and flow.vouchered == 2 and flow.seen == 3
    assert flow.to_allocated == pytest.approx(2.0)  # 2 orders, first received 0 → last allocated 1 s
    assert flow.to_voucher == pytest.approx(1.0)  # 2 orders over 2 s
    assert sorted(flow.allocated_ms) == pytest.approx([40.0, 500.0])
    assert flow.unfinished == "no progress for 120s: 1 accepted"
    burst = summarize(pushed, seen, None, since=at(-1000))
    assert burst.to_allocated == pytest.approx(1.0) and burst.unfinished is None  # 2 over 2 s from the send


def _results() -> Results:
    bus = Bus(20_000, 77_000, 250_000, 1_000, 300, 2.0, 6_000, 12.0)
    hot = Hot(1000, hot=Reserving(1000, 1000, 0, 240.0), spread=Reserving(1000, 1000, 0, 500.0))
    sending = Clock(wall=10.0, cpu=0.3)
    webhook = Flow(
        Push(tids=["a"] * 600, latencies_ms=[5.0] * 600, seconds=10.0, clock=sending), to_voucher=60.0
    )
    paced = Flow(
        Push(tids=["b"] * 300, latencies_ms=[4.0] * 295 + [30.0] * 5, seconds=10.0),
        allocated_ms=[20.0] * 98 + [400.0] * 2,
        rate=30.0,
    )
    return Results(
        "123456",
        idle=IdleCpu(20, 3.5, {"kafka": 2.0, "postgres": 1.0, "order": 0.5}, 40, 7, 2, ["finance"]),
        bus=bus,
        hot=hot,
        webhook=webhook,
        paced=paced,
        rss=Rss({"order": 151.0, "gateway": 90.0}, {"order": 10, "gateway": 21}),
        rss_idle=Rss({"order": 100.0, "gateway": 120.0}, {"order": 10, "gateway": 20}),
        skipped={"kafka": "failed: KafkaError: broker down"},
        client_phase={"hot": None, "webhook": 0.05},
    )


def test_the_rows_say_met_or_not_per_target_and_the_ratio_to_the_bus():
    by_name = {r.name: r for r in rows(_results())}
    idle = by_name["stack CPU (services, Kafka, PostgreSQL)"]
    assert (idle.measured, idle.goal, idle.met) == ("3.5 %", "< 5 % of a core", "yes")
    biggest = by_name["  biggest (% of a core)"].measured
    assert biggest == "kafka 2.0, postgres 1.0, order 0.5 (40 processes, 2 started within it)"
    assert by_name["  [not idle] restarted within it"].measured == "finance"
    hook = by_name["webhook → sale voucher, sustained"]
    assert (hook.measured, hook.goal, hook.met, hook.vs_bus) == (
        "60.0 orders/s",
        "≥ 1,000 orders/s",
        "NO",
        "0.010×",
    )
    assert by_name["webhook → allocated, sustained"].met == "—"  # no value, no target: nothing claimed
    assert by_name["hot ÷ spread"].measured == "0.48×" and by_name["hot ÷ spread"].met == "NO"
    assert by_name["oversold stock rows"].met == "yes"
    assert by_name["reserve, 1,000 orders on 1,000 SKUs"].vs_bus == "0.083×"
    assert by_name["webhook → allocated p50"].met == "yes"
    assert by_name["webhook → allocated p99"].met == "NO"  # 2 of 100 at 400 ms
    assert by_name["webhook answer p99 (client side)"].met == "NO"  # 5 of 300 at 30 ms
    assert by_name["RSS order"].measured == "151 MB (idle 100)" and by_name["RSS order"].met == "NO"
    gateway = by_name["RSS gateway"]
    assert (gateway.measured, gateway.met) == ("90 MB (restarted since idle)", "yes")
    assert by_name["kafka"].measured.startswith("failed")  # a failed phase is listed, not hidden
    assert "published → allocated, sustained" not in by_name
    assert by_name["its CPU over each phase, % of one core"].measured == "hot —, webhook 5 (3 while sending)"


def test_the_table_renders_text_that_looks_like_markup_as_text():
    from rich.console import Console

    res = _results()
    res.skipped["hot"] = "failed: [red] not a style [/] really"
    console = Console(width=200, record=True)
    console.print(render(res))
    text = console.export_text()
    assert "[red] not a style [/] really" in text
    assert "every performance target" in text


def test_counter_notes_show_refusals(monkeypatch):
    res = _results()
    res.webhook.pushed.refused = Counter({"401 stale timestamp": 3})
    assert any(r.name == "  refused" and "3 × 401" in r.measured for r in rows(res))
