"""Routing on top of complete > nearest > priority, each rule with the trace's sentence: closed (hours,
holidays) and full (open tasks, orders today) nodes skipped, load within the band, the OMS rules' route
hints (node, pool; a carrier hint is not sourcing's), nodes dedicated to high-value goods, same-city radius,
an address not located, store pickup. Pure: `source` decides, `explain` says why."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from omni_fulfillment.domain.explain import explain
from omni_fulfillment.domain.hours import Holiday, OpeningHours, WeeklyWindow, Window
from omni_fulfillment.domain.nodes import NodeLoad, NodeRouting
from omni_fulfillment.domain.routing import Hint, OrderRouting
from omni_fulfillment.domain.sourcing import Candidate, Line, Plan, Point, Unfulfillable, source
from omni_fulfillment.domain.stock_view import NodeInfo, StockView

DEST = Point(31.2304, 121.4737)  # Shanghai
CLOSED = "closed: opens 09:00 Asia/Shanghai"


def at(km: float) -> tuple[float, float]:
    return (DEST.lat + km / 111.195, DEST.lng)


def cand(code: str, km: float, priority: int = 0, **kw: Any) -> Candidate:
    stock = kw.pop("stock", {"A": 9})
    lat, lng = at(km)
    return Candidate(code, lat, lng, priority, stock, **kw)


def decide(cands: list[Candidate], lines: list[Line] | None = None, **kw: Any):
    lines = lines or [Line("A", 1)]
    kw.setdefault("destination", DEST)
    result = source(lines, cands, **kw)
    return result, explain(lines, cands, result, attempt=1, **kw)


def why(decision) -> dict[str, tuple[str, str]]:
    return {n.node_code: (n.outcome, n.why) for n in decision.nodes}


def chosen(result) -> list[str]:
    assert isinstance(result, Plan), result
    return result.node_codes


# -- closed: hours and holidays ------------------------------------------------------------------------------
def test_a_closed_node_is_skipped_with_when_it_opens_while_an_open_one_can_ship():
    result, d = decide([cand("ST-02", 1, closed=CLOSED), cand("WH-HZ", 20)])
    assert chosen(result) == ["WH-HZ"]
    assert why(d)["ST-02"] == ("unusable", f"{CLOSED}; holds every line")
    assert why(d)["WH-HZ"] == ("chosen", "holds every line; 20 km; priority 0")


def test_when_only_closed_nodes_can_ship_the_best_of_them_takes_the_order_and_says_so():
    result, d = decide(
        [cand("ST-02", 1, closed=CLOSED), cand("ST-05", 3, closed=CLOSED), cand("X", 2, stock={})]
    )
    assert chosen(result) == ["ST-02"]
    assert why(d)["ST-02"] == (
        "chosen",
        "holds every line; 1.0 km; priority 0; the best of 2 nodes that hold every line; "
        f"{CLOSED}: no open node can ship these lines, so it works them once it opens",
    )
    assert why(d)["ST-05"][0] == "lost"


def test_hours_and_holidays_close_a_node_in_the_view_at_its_local_time():
    monday_8am = datetime(2026, 12, 14, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai
    weekdays = tuple(WeeklyWindow(d, Window.of("09:00", "21:00")) for d in range(5))
    holiday = OpeningHours(weekly=weekdays, holidays=(Holiday(date(2026, 12, 14), (), "Staff day"),))
    view = StockView(
        [
            NodeInfo("ST-02", *at(1), 0, "store", NodeRouting(hours=OpeningHours(weekly=weekdays))),
            NodeInfo("ST-04", *at(2), 0, "store", NodeRouting(hours=holiday)),
            NodeInfo("WH-HZ", *at(20), 0),
        ],
        [("ST-02", "A", 5), ("ST-04", "A", 5), ("WH-HZ", "A", 5)],
        now=monday_8am,
    )
    cands = view.candidates(["A"])
    result, d = decide(cands)
    assert chosen(result) == ["WH-HZ"]
    assert why(d)["ST-02"] == ("unusable", f"{CLOSED}; holds every line")
    assert why(d)["ST-04"] == (
        "unusable",
        "closed: holiday 2026-12-14 Staff day; opens Tue 2026-12-15 09:00 Asia/Shanghai; holds every line",
    )
    at_ten = StockView(view.nodes.values(), [("ST-02", "A", 5)], now=monday_8am.replace(hour=2))
    assert chosen(decide(at_ten.candidates(["A"]))[0]) == ["ST-02"]  # 10:00: open


# -- full: capacity ------------------------------------------------------------------------------------------
def test_a_full_node_is_skipped_by_open_tasks_or_by_orders_today():
    limits = NodeRouting(max_open_tasks=40, orders_per_day=100)
    view = StockView(
        [
            NodeInfo("ST-03", *at(1), 9, "store", limits),
            NodeInfo("ST-06", *at(2), 9, "store", limits),
            NodeInfo("WH-HZ", *at(30), 0),
        ],
        [("ST-03", "A", 5), ("ST-06", "A", 5), ("WH-HZ", "A", 5)],
        load={"ST-03": NodeLoad(40, 12), "ST-06": NodeLoad(3, 100), "WH-HZ": NodeLoad(500, 900)},
    )
    result, d = decide(view.candidates(["A"]))
    assert chosen(result) == ["WH-HZ"]
    assert why(d)["ST-03"] == ("unusable", "full: 40 of 40 open tasks; holds every line")
    assert why(d)["ST-06"] == ("unusable", "full: 100 of 100 orders today; holds every line")
    assert [n.open_tasks for n in d.nodes] == [500, 40, 3]


def test_the_batchs_own_plans_count_against_capacity():
    view = StockView(
        [NodeInfo("ST-03", *at(1), 0, "store", NodeRouting(max_open_tasks=2))], [("ST-03", "A", 9)]
    )
    view.load["ST-03"] = NodeLoad(1, 1)
    assert view.candidates(["A"])[0].full == ""
    view.take("ST-03", [Line("A", 1)])  # an order of this batch went there
    assert view.candidates(["A"])[0].full == "full: 2 of 2 open tasks"
    assert view.candidates(["A"])[0].load == 1, "the band compares the nodes as the batch found them"


def test_when_only_full_nodes_hold_the_lines_the_order_is_short_and_says_why():
    result, d = decide([cand("ST-03", 1, full="full: 40 of 40 open tasks"), cand("ST-07", 2, stock={"A": 0})])
    assert isinstance(result, Unfulfillable)
    assert result.reason == (
        "not enough stock in any combination of active nodes that can take the order (1 skipped: full): "
        "A needs 1, 0 available in total"
    )
    assert [(s.material_code, s.requested, s.available) for s in result.shortfall] == [("A", 1, 0)]
    assert why(d)["ST-03"] == ("unusable", "full: 40 of 40 open tasks; holds every line")


# -- load within the band ------------------------------------------------------------------------------------
def test_within_the_nearest_nodes_band_the_less_loaded_wins():
    result, d = decide([cand("WH-HZ", 1, load=11), cand("ST-01", 2.5, load=3)])
    assert chosen(result) == ["ST-01"]
    said = "WH-HZ (1.0 km) and ST-01 (2.5 km) within 2 km: the less loaded ST-01 wins (3 vs 11 open tasks)"
    assert why(d)["ST-01"] == (
        "chosen",
        f"holds every line; 2.5 km; priority 0; the best of 2 nodes that hold every line; {said}",
    )
    assert why(d)["WH-HZ"] == ("lost", f"lost: {said}")


def test_beyond_the_band_or_with_no_band_the_nearest_wins_whatever_the_load():
    result, d = decide([cand("WH-HZ", 1, load=11), cand("ST-01", 3.5, load=3)])
    assert chosen(result) == ["WH-HZ"]
    assert why(d)["ST-01"] == ("lost", "lost: 3.5 km, farther than WH-HZ (1.0 km) with the same coverage")
    assert chosen(decide([cand("WH-HZ", 1, load=11, band_km=0), cand("ST-01", 1.5, load=0)])[0]) == ["WH-HZ"]
    # equal load: the nearest of the band
    assert chosen(decide([cand("WH-HZ", 1, load=2), cand("ST-01", 1.5, load=2)])[0]) == ["WH-HZ"]


# -- route hints ---------------------------------------------------------------------------------------------
NODE_HINT = Hint(node="WH-SH", ruleset="rs-east v2")
POOL_HINT = Hint(pool="EAST", ruleset="rs-east v2")


def test_a_node_hint_picks_its_node_over_a_nearer_one():
    routing = OrderRouting(hints=(NODE_HINT, Hint(carrier="SF", ruleset="rs-east v2")))
    result, d = decide([cand("N1", 1), cand("WH-SH", 50)], routing=routing)
    assert chosen(result) == ["WH-SH"]
    assert why(d)["WH-SH"] == (
        "chosen",
        "holds every line; 50 km; priority 0; route hint node WH-SH (rs-east v2) followed",
    )
    assert why(d)["N1"] == ("lost", "lost: route hint node WH-SH (rs-east v2) is followed; holds every line")
    assert routing.carrier_hints == (Hint(carrier="SF", ruleset="rs-east v2"),)


def test_a_hint_its_node_cannot_follow_is_said_and_sourcing_goes_on_as_always():
    result, d = decide([cand("N1", 1), cand("WH-SH", 50, stock={"A": 0, "B": 1})], [Line("A", 1)],
                       routing=OrderRouting(hints=(NODE_HINT,)))  # fmt: skip
    assert chosen(result) == ["N1"]
    assert why(d)["N1"][1].endswith(
        "; route hint node WH-SH (rs-east v2) not followed: WH-SH cannot ship these lines by itself"
    )
    closed = decide(
        [cand("N1", 1), cand("WH-SH", 50, closed=CLOSED)], routing=OrderRouting(hints=(NODE_HINT,))
    )[1]
    assert why(closed)["N1"][1].endswith(f"not followed: WH-SH {CLOSED}")
    gone = decide([cand("N1", 1)], routing=OrderRouting(hints=(NODE_HINT,)))[1]
    assert why(gone)["N1"][1].endswith("not followed: WH-SH holds none of these lines")


def test_a_pool_hint_sources_within_the_pool_even_split_over_its_nodes():
    east = frozenset({"EAST"})
    cands = [cand("N1", 1, stock={"A": 9, "B": 9}), cand("P1", 30, stock={"A": 9}, pools=east),
             cand("P2", 40, stock={"B": 9}, pools=east)]  # fmt: skip
    result, d = decide(cands, [Line("A", 1), Line("B", 1)], routing=OrderRouting(hints=(POOL_HINT,)))
    assert chosen(result) == ["P1", "P2"]
    assert why(d)["N1"] == ("lost", "lost: route hint pool EAST (rs-east v2) is followed; holds every line")
    assert why(d)["P1"][1].endswith("; route hint pool EAST (rs-east v2) followed")


def test_node_hints_come_before_pool_hints():
    cands = [cand("P1", 30, pools=frozenset({"EAST"})), cand("WH-SH", 50)]
    result, d = decide(cands, routing=OrderRouting(hints=(POOL_HINT, NODE_HINT)))
    assert chosen(result) == ["WH-SH"]
    assert why(d)["WH-SH"][1].endswith(
        "route hint node WH-SH (rs-east v2) followed; "
        "route hint pool EAST (rs-east v2) not needed: route hint node WH-SH (rs-east v2) came first"
    )


# -- high-value goods ----------------------------------------------------------------------------------------
def test_high_value_lines_go_to_a_dedicated_node_first():
    routing = OrderRouting(high_value=frozenset({"A"}))
    result, d = decide([cand("N1", 1), cand("HV-1", 80, high_value=True)], routing=routing)
    assert chosen(result) == ["HV-1"]
    assert why(d)["HV-1"][1].endswith(
        "; high-value lines: sourced at the nodes dedicated to high-value goods"
    )
    assert why(d)["N1"] == (
        "lost",
        "lost: not a high-value node, and high-value lines go to those that can ship them; holds every line",
    )
    # other lines are not high-value: the nearest, as always
    assert chosen(decide([cand("N1", 1), cand("HV-1", 80, high_value=True)])[0]) == ["N1"]


def test_when_no_dedicated_node_can_ship_them_high_value_lines_go_anywhere_and_the_trace_says_so():
    routing = OrderRouting(high_value=frozenset({"A"}))
    result, d = decide([cand("N1", 1), cand("HV-1", 80, stock={}, high_value=True)], routing=routing)
    assert chosen(result) == ["N1"]
    assert why(d)["N1"][1].endswith("; high-value lines: the high-value nodes (HV-1) cannot ship them")
    alone = decide([cand("N1", 1)], routing=routing)[1]
    assert why(alone)["N1"][1].endswith(
        "; high-value lines: no node dedicated to high-value goods holds them"
    )


# -- same-city delivery --------------------------------------------------------------------------------------
SAME_CITY = OrderRouting(delivery="same_city")


def test_same_city_delivery_sources_only_stores_within_their_radius():
    cands = [
        cand("WH-SH", 1),
        cand("S1", 3, type="store", radius_km=5),
        cand("S2", 8, type="store", radius_km=5),
        cand("S3", 2, type="store"),
    ]
    result, d = decide(cands, routing=SAME_CITY)
    assert chosen(result) == ["S1"]
    assert why(d)["WH-SH"] == (
        "unusable",
        "same-city delivery comes from stores; this is a warehouse; holds every line",
    )
    assert why(d)["S2"] == ("unusable", "8.0 km away, beyond its same-city radius of 5 km; holds every line")
    assert why(d)["S3"] == (
        "unusable",
        "no same-city radius set: it does not deliver same-city; holds every line",
    )


def test_same_city_with_no_store_in_reach_or_no_located_address_is_short():
    result, _ = decide([cand("S2", 8, type="store", radius_km=5)], routing=SAME_CITY)
    assert isinstance(result, Unfulfillable) and "(1 skipped: out of same-city reach)" in result.reason
    result, d = decide([cand("S1", 3, type="store", radius_km=5)], routing=SAME_CITY, destination=None)
    assert isinstance(result, Unfulfillable)
    assert why(d)["S1"] == (
        "unusable",
        "address not located: the same-city radius cannot be measured; holds every line",
    )


# -- an address not located, store pickup --------------------------------------------------------------------
def test_an_address_not_located_is_ranked_by_priority_and_the_trace_says_so():
    result, d = decide([cand("N1", 1, priority=1), cand("N2", 900, priority=5)], destination=None)
    assert chosen(result) == ["N2"]
    assert why(d)["N2"] == (
        "chosen",
        "holds every line; address not located: ranked by priority; priority 5; the best of 2 nodes that "
        "hold every line",
    )
    assert why(d)["N1"] == ("lost", "lost: address not located; lower priority 1 than N2 (5)")
    assert all(n.distance_km is None for n in d.nodes)


def test_store_pickup_sources_only_the_pickup_store_even_closed_or_full():
    cands = [cand("ST-09", 5, type="store", closed=CLOSED, full="full: 40 of 40 open tasks"), cand("W", 1)]
    result, d = decide(cands, pickup_node="ST-09")
    assert chosen(result) == ["ST-09"]
    assert why(d)["ST-09"] == (
        "chosen",
        f"the store pickup node; holds every line; {CLOSED}, and the buyer collects once it is open; "
        "full: 40 of 40 open tasks, taken all the same: the buyer chose it",
    )
    assert why(d)["W"] == ("unusable", "not the store pickup node (ST-09)")


def test_order_routing_is_kept_as_json():
    r = OrderRouting("same_city", (NODE_HINT, Hint(carrier="SF")), frozenset({"B", "A"}))
    assert r.json() == {
        "delivery": "same_city",
        "hints": [{"node": "WH-SH", "ruleset": "rs-east v2"}, {"carrier": "SF"}],
        "high_value": ["A", "B"],
    }
    assert OrderRouting.of_json(r.json()) == r
    assert OrderRouting.of_json({}) == OrderRouting() and OrderRouting().json() == {}
