"""The benchmark's arithmetic: percentiles, rates, latencies, the order mix and its stock demand."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from omni_tools.bench import build_orders, demand, fmt_pcts, latencies_ms, percentile, rate, sustained

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def at(ms: float) -> datetime:
    return T0 + timedelta(milliseconds=ms)


def test_percentile_interpolates_between_closest_ranks_like_numpy():
    xs = [15, 20, 35, 40, 50]
    assert percentile(xs, 0) == 15
    assert percentile(xs, 100) == 50
    assert percentile(xs, 50) == 35
    assert percentile(xs, 40) == pytest.approx(29.0)  # numpy.percentile(xs, 40) == 29.0
    assert percentile(list(range(1, 101)), 99) == pytest.approx(99.01)
    assert percentile(list(range(1, 101)), 95) == pytest.approx(95.05)


def test_percentile_does_not_depend_on_input_order_nor_change_it():
    xs = [9.0, 1.0, 5.0, 3.0]
    assert percentile(xs, 50) == 4.0
    assert xs == [9.0, 1.0, 5.0, 3.0]


def test_percentile_of_one_value_and_of_none():
    assert percentile([7.5], 99) == 7.5
    assert percentile([], 50) is None
    with pytest.raises(ValueError):
        percentile([1, 2], 101)


def test_rate_over_datetimes_and_seconds():
    assert rate(1000, at(0), at(2000)) == pytest.approx(500.0)
    assert rate(300, 0.0, 1.5) == pytest.approx(200.0)
    assert rate(10, at(5), at(5)) is None  # an empty span has no rate
    assert rate(0, at(0), at(10)) is None
    assert rate(10, None, at(10)) is None


def test_latencies_pair_by_key_and_ignore_the_unfinished():
    start = {"a": at(0), "b": at(100), "c": at(200)}
    end = {"a": at(40), "b": at(350), "z": at(999)}
    assert sorted(latencies_ms(start, end)) == pytest.approx([40.0, 250.0])


def test_sustained_rate_is_count_over_first_start_to_last_end():
    start = {str(i): at(i * 10) for i in range(100)}  # 100 orders received over 990 ms
    end = {k: v + timedelta(milliseconds=10) for k, v in start.items()}  # each done 10 ms later
    assert sustained(start, end) == pytest.approx(100 / 1.0)  # last end at 1000 ms
    assert sustained(start, {}) is None
    # an order that never finished does not count, and its start does not widen the window
    assert sustained({"a": at(0), "b": at(500)}, {"b": at(1500)}) == pytest.approx(1.0)


def test_fmt_pcts():
    assert fmt_pcts([]) == "—"
    assert fmt_pcts([10.0, 20.0, 30.0]) == "20 / 29 / 30  (max 30)"


def test_order_mix_is_tagged_reproducible_and_its_demand_adds_up():
    docs = build_orders(200, "123456", seed=7)

    def timeless(batch):  # the trades carry the wall clock (created, pay_time, modified): leave it out
        clock = {"created", "pay_time", "modified"}
        return [
            {k: v for k, v in d["trade_fullinfo_get_response"]["trade"].items() if k not in clock}
            for d in batch
        ]

    assert timeless(docs) == timeless(build_orders(200, "123456", seed=7))
    trades = [d["trade_fullinfo_get_response"]["trade"] for d in docs]
    tids = [t["tid_str"] for t in trades]
    assert len(set(tids)) == 200 and all(len(t) == 19 and t.startswith("4123456") for t in tids)
    oids = [o["oid_str"] for t in trades for o in t["orders"]["order"]]
    assert len(set(oids)) == len(oids)  # line ids never collide across orders
    assert {len(t["orders"]["order"]) for t in trades} == {1, 2}
    assert {t["receiver_city"] for t in trades} == {"杭州市", "上海市", "北京市", "广州市"}
    sets = sum(o["num"] for t in trades for o in t["orders"]["order"] if o["outer_iid"] == "SET-COFFEE-PRO")
    beans = sum(o["num"] for t in trades for o in t["orders"]["order"] if o["outer_iid"] == "BEAN-ETH-500")
    assert demand(docs) == Counter(
        {
            "MACHINE-AUTO-01": sets,
            "BEAN-YN-250": sets,
            "BEAN-ETH-250": sets,
            "BEAN-COL-250": sets,
            "BEAN-ETH-500": beans,
        }
    )


def test_every_order_of_the_mix_is_accepted_by_the_real_adapter():
    from omni_channel.domain.tmall import Accepted, normalise_trade

    for doc in build_orders(300, "654321", seed=1):
        out = normalise_trade(doc, shop_id="TM-OMNI-FLAGSHIP", received_at=T0)
        assert isinstance(out, Accepted), out
