"""Sourcing decisions per second: fulfillment's pure routing (omni_fulfillment.domain.sourcing.source, and
explain for the trace) for BENCH_ORDERS orders (10,000) over BENCH_NODES nodes (200), no I/O.

    make bench-routing                        # or: python -m omni_tools.bench.routing --orders 10000

The network is a realistic mix, deterministic (seeded): a fifth warehouses in twelve cities (always open, a
few dedicated to high-value goods, in regional pools), the rest stores around those cities (09:00-21:00 or
10:00-22:00 in Asia/Shanghai, some on holiday today, capacity by open tasks and orders a day, loads up to
full, a same-city radius). 400 materials: warehouses hold most of them, stores a few. Orders go to a point
around one of the cities, one to four lines; some carry an OMS rules' route hint (a node or a pool), some
high-value lines, some are same-city deliveries, some store pickups, some have no located address. Each
decision is what the service does per order: the candidates from the batch's stock view, `source`, the
stock its plan takes off the view; with `--explain` (the default), also the trace's sentences.

It prints decisions per second (the best of `--rounds`), the mean and p99 time of one decision, and how the
decisions spread (complete, split, unfulfillable; nodes skipped closed or full; hints followed; load-band
wins).
"""

from __future__ import annotations

import argparse
import random
import time as clock
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from omni_fulfillment.domain.explain import Decision, explain
from omni_fulfillment.domain.hours import Holiday, OpeningHours, WeeklyWindow, Window
from omni_fulfillment.domain.nodes import NodeLoad, NodeRouting
from omni_fulfillment.domain.routing import Hint, OrderRouting
from omni_fulfillment.domain.sourcing import Line, Plan, Point, source
from omni_fulfillment.domain.stock_view import NodeInfo, StockView

from .stats import percentile

CITIES = (
    ("上海", 31.23, 121.47, "EAST"), ("杭州", 30.27, 120.16, "EAST"), ("南京", 32.06, 118.80, "EAST"),
    ("北京", 39.90, 116.41, "NORTH"), ("天津", 39.13, 117.20, "NORTH"), ("济南", 36.65, 117.12, "NORTH"),
    ("广州", 23.13, 113.26, "SOUTH"), ("深圳", 22.54, 114.06, "SOUTH"), ("福州", 26.07, 119.30, "SOUTH"),
    ("成都", 30.57, 104.07, "WEST"), ("重庆", 29.56, 106.55, "WEST"), ("西安", 34.34, 108.94, "WEST"),
)  # fmt: skip
NOW = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)  # Monday 09:30 in Shanghai: the 10:00 stores are closed
TODAY = date(2026, 3, 2)


@dataclass(frozen=True)
class Order:
    order_id: str
    lines: tuple[Line, ...]
    destination: Point | None
    routing: OrderRouting
    pickup_node: str | None


@dataclass(frozen=True)
class Setup:
    nodes: list[NodeInfo]
    stock: list[tuple[str, str, int]]
    load: dict[str, NodeLoad]
    orders: list[Order]


def _near(rng: random.Random, lat: float, lng: float, km: float) -> tuple[float, float]:
    return lat + rng.uniform(-km, km) / 111.0, lng + rng.uniform(-km, km) / 95.0


def _store_hours(rng: random.Random) -> OpeningHours:
    opens, closes = rng.choice((("09:00", "21:00"), ("10:00", "22:00")))
    weekly = tuple(WeeklyWindow(d, Window.of(opens, closes)) for d in range(7))
    holidays = (Holiday(TODAY, (), "inventory day"),) if rng.random() < 0.05 else ()
    return OpeningHours(weekly=weekly, holidays=holidays)


def build(orders: int = 10_000, n_nodes: int = 200, seed: int = 7) -> Setup:
    rng = random.Random(seed)
    materials = [f"M{i:04d}" for i in range(400)]
    nodes: list[NodeInfo] = []
    load: dict[str, NodeLoad] = {}
    warehouses = max(1, n_nodes // 5)
    for i in range(n_nodes):
        _, lat, lng, region = CITIES[i % len(CITIES)]
        if i < warehouses:
            code = f"WH-{i:03d}"
            routing = NodeRouting(pools=(region,), high_value=i % 8 == 0, load_band_km=5.0)
            nodes.append(
                NodeInfo(code, *_near(rng, lat, lng, 30), rng.randrange(0, 20), "warehouse", routing)
            )
            load[code] = NodeLoad(rng.randrange(0, 400), rng.randrange(0, 2000))
        else:
            code = f"ST-{i:03d}"
            cap = rng.choice((20, 40, 60))
            routing = NodeRouting(
                hours=_store_hours(rng), max_open_tasks=cap, orders_per_day=cap * 5,
                same_city_radius_km=rng.choice((3.0, 5.0, 10.0)), pools=(region, f"{region}-STORES"),
            )  # fmt: skip
            nodes.append(NodeInfo(code, *_near(rng, lat, lng, 15), rng.randrange(0, 5), "store", routing))
            load[code] = NodeLoad(rng.randrange(0, cap + 1), rng.randrange(0, cap * 3))
    stock = []
    for n in nodes:
        share, most = (0.6, 80) if n.type == "warehouse" else (0.08, 8)
        for m in materials:
            if rng.random() < share:
                stock.append((n.code, m, rng.randrange(0, most)))
    stores = [n for n in nodes if n.type == "store"]
    held: dict[str, list[str]] = {}
    for code, m, q in stock:
        if q > 0:
            held.setdefault(code, []).append(m)
    hv = set(rng.sample(materials, 20))
    made = []
    for k in range(orders):
        _, lat, lng, region = rng.choice(CITIES)
        dest = None if rng.random() < 0.05 else Point(*_near(rng, lat, lng, 25))
        picked = rng.sample(materials, rng.choice((1, 1, 1, 2, 2, 3, 4)))
        roll = rng.random()
        delivery, pickup = "express", None
        if roll < 0.15:  # O2O: what a store near the buyer shows it has
            store = rng.choice([n for n in stores if held.get(n.code)])
            picked = rng.sample(held[store.code], min(len(held[store.code]), rng.choice((1, 1, 2))))
            if roll < 0.10:
                delivery, dest = "same_city", Point(*_near(rng, store.lat, store.lng, 3))
            else:
                delivery, pickup = "store_pickup", store.code
        lines = tuple(Line(m, rng.choice((1, 1, 2))) for m in picked)
        roll = rng.random()
        hints: tuple[Hint, ...] = ()
        if roll < 0.05:
            hints = (Hint(node=f"WH-{rng.randrange(warehouses):03d}", ruleset="bench v1"),)
        elif roll < 0.10:
            hints = (Hint(pool=region, ruleset="bench v1"), Hint(carrier="SF", ruleset="bench v1"))
        routing = OrderRouting(delivery, hints, frozenset(m for m in picked if m in hv))
        made.append(Order(f"B{k:05d}", lines, dest, routing, pickup))
    return Setup(nodes, stock, load, made)


@dataclass
class Run:
    seconds: float
    each: list[float]
    results: list[Plan | object]
    decisions: list[Decision]


def run_once(s: Setup, *, with_explain: bool = True) -> Run:
    """One batch: a fresh stock view, every order decided in turn (its plan taken off the view)."""
    view = StockView(s.nodes, s.stock, load=s.load, now=NOW)
    each: list[float] = []
    results: list[Plan | object] = []
    decisions: list[Decision] = []
    start = clock.perf_counter()
    for o in s.orders:
        t0 = clock.perf_counter()
        cands = view.candidates([x.material_code for x in o.lines], [o.pickup_node] if o.pickup_node else [])
        result = source(
            o.lines, cands, destination=o.destination, pickup_node=o.pickup_node, routing=o.routing
        )
        if with_explain:
            decisions.append(
                explain(o.lines, cands, result, attempt=1, destination=o.destination,
                        pickup_node=o.pickup_node, routing=o.routing)
            )  # fmt: skip
        if isinstance(result, Plan):
            for a in result.allocations:
                view.take(a.node_code, a.lines)
        each.append(clock.perf_counter() - t0)
        results.append(result)
    return Run(clock.perf_counter() - start, each, results, decisions)


def spread(run: Run) -> Counter[str]:
    out: Counter[str] = Counter()
    for r in run.results:
        out["complete (one node)" if isinstance(r, Plan) and len(r.allocations) == 1 else
            "split" if isinstance(r, Plan) else "unfulfillable"] += 1  # fmt: skip
    for d in run.decisions:
        whys = [n.why for n in d.nodes]
        out["decisions skipping a closed node"] += any(w.startswith("closed") for w in whys)
        out["decisions skipping a full node"] += any(w.startswith("full") for w in whys)
        out["route hints followed"] += any("followed" in w and "not followed" not in w for w in whys)
        out["load-band wins"] += any("the less loaded" in w for w in whys if w.startswith("holds"))
    return out


def main(argv: Sequence[str] | None = None) -> dict[str, float]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--orders", type=int, default=10_000)
    ap.add_argument("--nodes", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-explain", dest="explain", action="store_false", help="time `source` alone")
    args = ap.parse_args(argv)
    s = build(args.orders, args.nodes)
    best: Run | None = None
    for _ in range(max(1, args.rounds)):
        got = run_once(s, with_explain=args.explain)
        if best is None or got.seconds < best.seconds:
            best = got
    assert best is not None
    n = len(best.results)
    result = {
        "decisions": float(n),
        "nodes": float(len(s.nodes)),
        "decisions_per_s": n / best.seconds,
        "mean_us": 1e6 * best.seconds / n,
        "p99_us": 1e6 * (percentile(best.each, 99) or 0.0),
    }
    what = "source + explain" if args.explain else "source alone"
    print(f"sourcing decisions: {n:,} orders over {len(s.nodes)} nodes ({what}, pure function)")
    print(f"  {result['decisions_per_s']:,.0f} decisions/s (best of {args.rounds}), "
          f"{result['mean_us']:.1f} µs mean, {result['p99_us']:.1f} µs p99")  # fmt: skip
    for k, v in sorted(spread(best).items()):
        print(f"  {k}: {v:,}")
    return result


if __name__ == "__main__":
    main()
