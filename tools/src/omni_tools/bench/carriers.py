"""Carrier decisions per second: fulfillment's pure carrier choice (omni_fulfillment.domain.carrier_choice)
for BENCH_ORDERS parcels (10,000) over BENCH_CARRIERS carriers (20), no I/O.

    make bench-carriers                       # or: python -m omni_tools.bench.carriers --orders 10000

The carriers are a realistic mix, deterministic (seeded): national carriers and regional ones (a few
provinces), some excluding the remote west; three weight bands each, with dearer bands for the remote
provinces; SLA days per region; half with a cut-off; some with a daily capacity; one degraded, one down.
Pins (sku, shop, region) and the OMS rules' preferences on some parcels, a promise with remote regions.
Each parcel goes to one of the 31 mainland provinces (a city and district of it), 0.1 to 30 kg, one to
three materials. The day's counts grow as parcels are given out, as the service counts them, so
capacities fill up during the run.

It prints decisions per second (the best of `--rounds`), the mean and p99 time of one decision, and how
the choices spread (carrier chosen, by pin or preference, over the promise, none).
"""

from __future__ import annotations

import argparse
import random
import time as clock
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from omni_fulfillment.domain.carrier_choice import Choice, Parcel, choose
from omni_fulfillment.domain.carriers import (
    Area,
    Band,
    Carrier,
    Health,
    Pin,
    PinKind,
    Promise,
    Region,
    RegionDays,
)

from .stats import percentile

PROVINCES = (
    "北京", "天津", "河北省", "山西省", "内蒙古自治区", "辽宁省", "吉林省", "黑龙江省", "上海", "江苏省",
    "浙江省", "安徽省", "福建省", "江西省", "山东省", "河南省", "湖北省", "湖南省", "广东省",
    "广西壮族自治区", "海南省", "重庆", "四川省", "贵州省", "云南省", "西藏自治区", "陕西省", "甘肃省",
    "青海省", "宁夏回族自治区", "新疆维吾尔自治区",
)  # fmt: skip
REMOTE = ("西藏自治区", "新疆维吾尔自治区", "青海省")
EAST = ("上海", "江苏省", "浙江省", "安徽省")
SOUTH = ("广东省", "广西壮族自治区", "福建省", "海南省")
NOW = datetime(2026, 3, 2, 7, 30, tzinfo=UTC)  # 15:30 in Shanghai: some cut-offs have passed


@dataclass(frozen=True)
class Setup:
    carriers: list[Carrier]
    pins: list[Pin]
    promise: Promise
    parcels: list[Parcel]


def _bands(rng: random.Random) -> tuple[Band, ...]:
    first = rng.randrange(500, 1300, 50)
    step = rng.randrange(100, 400, 10)
    everywhere = (
        Band(0, 3000, 1000, first, 1000, step),
        Band(3000, 20_000, 3000, first + 2 * step, 1000, step - 20),
        Band(20_000, None, 20_000, first + 18 * step, 5000, step * 4),
    )
    remote = tuple(
        Band(0, None, 1000, first * 2, 500, step * 2, Area(p)) for p in REMOTE
    )  # priced apart, to 1 g over the first kilo
    return everywhere + remote


def build(orders: int = 10_000, n_carriers: int = 20, seed: int = 11) -> Setup:
    rng = random.Random(seed)
    carriers = []
    for i in range(n_carriers):
        kind = i % 4
        if kind == 0:  # national, everywhere
            areas: tuple[Area, ...] = ()
        elif kind == 1:  # national, not the remote west
            areas = tuple(Area(p, exclude=True) for p in REMOTE)
        elif kind == 2:  # regional: the east, one city excluded
            areas = (*(Area(p) for p in EAST), Area("浙江省", "温州市", exclude=True))
        else:  # regional: the south
            areas = tuple(Area(p) for p in SOUTH)
        sla = (
            RegionDays(Area(rng.choice(EAST)), 1),
            RegionDays(Area(rng.choice(SOUTH)), 2),
            *(RegionDays(Area(p), rng.randint(4, 7)) for p in REMOTE),
        )
        carriers.append(
            Carrier(
                code=f"C{i + 1:02d}",
                name=f"carrier {i + 1}",
                bands=_bands(rng),
                areas=areas,
                sla=sla,
                default_sla_days=rng.randint(2, 4),
                cutoff=time(rng.choice((15, 16, 17, 18)), 0) if i % 2 else None,
                daily_capacity=rng.choice((None, None, orders // 8, orders // 4)),
                health=Health.DOWN if i == 7 else Health.DEGRADED if i == 5 else Health.HEALTHY,
            )
        )
    materials = [f"M{k:04d}" for k in range(1000)]
    shops = [f"shop-{k}" for k in range(5)]
    pins = [
        *(
            Pin(f"K{k}", rng.choice(carriers).code, PinKind.SKU, material_code=materials[k * 7])
            for k in range(3)
        ),
        *(Pin(f"S{k}", rng.choice(carriers).code, PinKind.SHOP, shop_id=shops[k]) for k in range(2)),
        *(
            Pin(f"R{k}", rng.choice(carriers).code, PinKind.REGION, area=Area(PROVINCES[k * 5]))
            for k in range(4)
        ),
    ]
    promise = Promise(3, tuple(RegionDays(Area(p), 6) for p in REMOTE))
    parcels = []
    for n in range(orders):
        province = rng.choice(PROVINCES)
        region = Region(province, f"{province[:2]}{rng.randint(1, 12)}市", f"{rng.randint(1, 9)}区")
        picked = frozenset(rng.sample(materials, rng.randint(1, 3)))
        hint = ((rng.choice(carriers).code, "bench-rules v1"),) if n % 10 == 0 else ()
        parcels.append(
            Parcel(
                task_id=f"T{n}",
                order_id=f"O{n}",
                shop_id=rng.choice(shops + ["shop-9"] * 15),  # most shops have no pin
                region=region,
                weight_g=int(rng.lognormvariate(7.3, 1.0)) % 30_000 + 100,
                materials=picked,
                hints=hint,
            )
        )
    return Setup(carriers, pins, promise, parcels)


def run_once(s: Setup) -> tuple[float, list[float], list[Choice]]:
    """Every parcel's choice, the day's counts growing as the service's do: (seconds, each, choices)."""
    used: dict[tuple[str, date], int] = {}
    each: list[float] = []
    choices = []
    start = clock.perf_counter()
    for p in s.parcels:
        t0 = clock.perf_counter()
        c = choose(p, s.carriers, s.pins, s.promise, used, NOW)
        each.append(clock.perf_counter() - t0)
        if c.carrier is not None and c.ship_day is not None:
            used[(c.carrier, c.ship_day)] = used.get((c.carrier, c.ship_day), 0) + 1
        choices.append(c)
    return clock.perf_counter() - start, each, choices


def spread(choices: Sequence[Choice]) -> Counter[str]:
    out: Counter[str] = Counter()
    for c in choices:
        if c.carrier is None:
            out["no carrier"] += 1
            continue
        how = c.reason.split(": ", 2)[1]
        out[
            "pinned"
            if how.startswith("pinned")
            else "preferred"
            if how.startswith("preferred")
            else "by cost"
        ] += 1
        if c.sla_days is not None and c.sla_days > c.promised_days:
            out["over the promise"] += 1
    return out


def main(argv: Sequence[str] | None = None) -> dict[str, float]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--orders", type=int, default=10_000, help="parcels (1 or more)")
    ap.add_argument("--carriers", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)
    if args.orders < 1 or args.carriers < 1:
        ap.error("--orders and --carriers are 1 or more")
    s = build(args.orders, args.carriers)
    best: tuple[float, list[float], list[Choice]] | None = None
    for _ in range(max(1, args.rounds)):
        got = run_once(s)
        if best is None or got[0] < best[0]:
            best = got
    assert best is not None
    seconds, each, choices = best
    result = {
        "decisions": float(len(choices)),
        "carriers": float(len(s.carriers)),
        "decisions_per_s": len(choices) / seconds,
        "mean_us": 1e6 * seconds / len(choices),
        "p99_us": 1e6 * (percentile(each, 99) or 0.0),
    }
    print(f"carrier decisions: {len(choices):,} parcels over {len(s.carriers)} carriers (pure function)")
    print(f"  {result['decisions_per_s']:,.0f} decisions/s (best of {args.rounds}), "
          f"{result['mean_us']:.1f} µs mean, {result['p99_us']:.1f} µs p99")  # fmt: skip
    for k, v in sorted(spread(choices).items()):
        print(f"  {k}: {v:,}")
    return result


if __name__ == "__main__":
    main()
