"""`make bench-stock`'s pure pieces: matching stock changes to pushes, the simulator's calls, Prometheus
counters, the table's rows; and the seed's simulator item."""

from __future__ import annotations

import pytest

from omni_tools.bench.stock import LAT, select
from omni_tools.bench.stock_report import (
    HotStock,
    Latency,
    StockResults,
    Usage,
    match_latencies,
    merge_calls,
    metric_sum,
    ms_pcts,
    per_second,
    pushes_of,
    render,
    rows,
)
from omni_tools.catalog import LISTINGS
from omni_tools.seed import sim_item, sim_shop


def call(at: float, num_iid: str, qty: int, outcome: str = "ok", **extra: str) -> dict:
    params = {"method": "taobao.item.quantity.update", "num_iid": num_iid, "quantity": str(qty), **extra}
    return {"at": at, "method": params["method"], "params": params, "outcome": outcome}


def test_each_change_is_matched_to_the_first_push_at_or_after_it_with_its_number_or_a_later_one():
    changes = [(10.0, 101), (10.2, 102), (10.4, 103), (10.6, 104)]
    pushes = [(10.05, 101), (10.5, 103), (10.7, 104)]  # 102 was coalesced into the push of 103
    got = match_latencies(changes, pushes)
    assert got == pytest.approx([0.05, 0.3, 0.1, 0.1])


def test_a_push_before_the_change_never_counts_and_an_unreflected_change_is_none():
    changes = [(10.0, 5), (11.0, 6)]
    pushes = [(9.0, 6), (10.5, 5)]  # 9.0 came before any change (an older number that happened to be 6)
    assert match_latencies(changes, pushes) == [pytest.approx(0.5), None]
    assert match_latencies([], pushes) == []
    assert match_latencies(changes, []) == [None, None]


def test_pushes_of_keeps_acknowledged_full_updates_of_one_item_in_the_window_by_time():
    calls = [
        call(3.0, "1", 30),
        call(1.0, "1", 10),
        call(2.0, "1", 20, outcome="failure"),
        call(2.5, "2", 25),
        call(2.7, "1", 27, type="2"),  # incremental: not a number the listing shows
        {"at": 2.8, "method": "taobao.item.seller.get", "params": {"num_iid": "1"}, "outcome": "ok"},
        call(9.0, "1", 90),
    ]
    assert pushes_of(calls, "1") == [(1.0, 10), (3.0, 30), (9.0, 90)]
    assert pushes_of(calls, "1", since=2.0, until=5.0) == [(3.0, 30)]


def test_merge_calls_deduplicates_overlapping_reads_of_the_simulators_log():
    seen: dict = {}
    assert merge_calls(seen, [call(1.0, "1", 10), call(2.0, "1", 20)]) == 2
    assert merge_calls(seen, [call(2.0, "1", 20), call(3.0, "1", 30)]) == 1
    assert sorted(k[0] for k in seen) == [1.0, 2.0, 3.0]


def test_metric_sum_adds_the_samples_whose_labels_match():
    text = """# HELP omni_events_handled_total Events handled (inbox-new)
# TYPE omni_events_handled_total counter
omni_events_handled_total{consumer="inventory-listings",event_type="inventory.stock-changed"} 288.0
omni_events_handled_total{consumer="inventory-listings",event_type="fulfillment.node.upserted"} 3.0
omni_events_handled_total{consumer="inventory-fulfillment",event_type="inventory.stock-changed"} 7.0
omni_channel_pushes_total{channel="tmall",outcome="acknowledged"} 66.0
omni_channel_pushes_total{channel="jd",outcome="acknowledged"} 4.0
omni_channel_push_latency_seconds_sum{channel="tmall"} 1.5
omni_channel_push_latency_seconds_count{channel="tmall"} 3.0
"""
    assert metric_sum(text, "omni_events_handled_total", consumer="inventory-listings",
                      event_type="inventory.stock-changed") == 288.0  # fmt: skip
    assert metric_sum(text, "omni_events_handled_total", consumer="inventory-listings") == 291.0
    assert metric_sum(text, "omni_channel_pushes_total", outcome="acknowledged") == 70.0
    assert metric_sum(text, "omni_channel_push_latency_seconds_sum") == 1.5
    assert metric_sum(text, "omni_channel_push_latency_seconds") == 0.0  # another name
    assert metric_sum("", "anything") == 0.0


def test_per_second_and_percentiles_in_ms():
    assert per_second([1.0, 2.0, 3.0]) == pytest.approx(1.0)
    assert per_second([1.0]) is None
    assert per_second([2.0, 2.0]) is None
    p50, p99, mx = ms_pcts([0.1, 0.2, 0.3])
    assert (p50, mx) == (pytest.approx(200.0), pytest.approx(300.0)) and p99 == pytest.approx(298.0)
    assert ms_pcts([]) == (None, None, None)


def test_rows_show_the_target_met_or_not_and_the_ratios_to_the_baselines():
    res = StockResults("123456", bus_batched=8000.0, bus_single_p50_ms=10.0)
    res.quiet = Latency("quiet", 4, 1.0, [0.05, 0.06, 0.07, None], 4, 4)
    res.loaded = Latency("loaded", 3, 1.0, [0.5, 1.5, 0.6], 2, 2, {"stock_changed": 100, "listing_events": 20,
                         "acknowledged": 20, "sim_updates": 20}, orders="600 orders")  # fmt: skip
    res.hot = HotStock(1000, reserve_rate=2000.0, reserved=1000, listing_events=5, pushes=5, pushes_per_s=2.5,
                       platform=37, explained=37, available=37)  # fmt: skip
    res.usage = {
        "idle": Usage(10, {"channel": 1.0}, 100, 100),
        "loaded": Usage(10, {"channel": 5.0}, 120, 110),
    }
    res.loaded.outbox = {"inventory.stock-changed": (531, 0.547, 3.923)}
    by_name = {(r.section.split(":")[0], r.name): r for r in rows(res)}
    quiet99 = by_name[("latency, quiet", "stock change (movement) → simulator got the push, p99")]
    assert quiet99.met == "yes" and quiet99.vs == "—"
    loaded99 = by_name[("latency under load", "stock change (movement) → simulator got the push, p99")]
    assert loaded99.met == "NO" and loaded99.vs.endswith("quiet")
    assert by_name[("latency, quiet", "  max; changes a push never reflected")].measured.endswith("; 1")
    waited = by_name[("latency under load", "  of which in inventory's outbox (created → sent), p50 / p99")]
    assert waited.measured == "stock-changed 547 / 3,923 ms (531)"
    hot = {r.name: r for r in rows(res) if r.section.startswith("hot SKU")}
    assert hot["at quiet: simulator = GET /listings/{id}/stock"].met == "yes"
    assert hot["at quiet: simulator above the material's available"].met == "yes"
    assert hot["reserve rate"].vs == "0.25× bus"
    assert [r.vs for r in rows(res) if r.name.startswith("loaded (")] == ["5.00× idle"]
    render(res)  # the table renders


def test_above_available_at_quiet_is_not_met():
    res = StockResults("1", hot=HotStock(10, platform=40, explained=37, available=37))
    hot = {r.name: r for r in rows(res)}
    assert hot["at quiet: simulator = GET /listings/{id}/stock"].met == "NO"
    assert hot["at quiet: simulator above the material's available"].met == "NO"


def test_the_seeds_simulator_item_and_shop_match_the_listing_and_the_channel_shop():
    listing = LISTINGS[1]
    item = sim_item(listing)
    assert item["num_iid"] == int(listing["channel_item_id"]) and item["quantity"] == 0
    assert item["skus"] == [{"sku_id": int(listing["channel_sku_id"]), "outer_id": listing["outer_id"],
                             "quantity": 0}]  # fmt: skip
    assert sim_item({**LAT, "channel_sku_id": None})["skus"] == []
    shop = sim_shop()
    assert shop["shop_id"] == listing["shop_id"] and shop["session"]


def test_select_keeps_the_fixed_order_and_refuses_unknown_phases():
    assert select("hot,quiet") == ["quiet", "hot"]
    assert select("all")[0] == "idle"
    with pytest.raises(ValueError):
        select("warp")
