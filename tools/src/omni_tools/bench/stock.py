"""`make bench-stock`: stock sync, measured end to end on the running stack (after `make up`); asserts
nothing.

Phases, in order (`--phases`): idle, bus, quiet, loaded, hot.

- idle    the channel service's CPU and RSS with no traffic from this bench (the baseline of the last rows);
- bus     the bus baseline (omni_chassis.bench_bus, fewer events than `make bench`);
- quiet   a receipt of 1 unit of BENCH-STOCK-LAT at STORE-SH-01 every `every_ms` through the gateway, no other
          load: each makes the bench listing L-BENCH-STOCK-LAT one higher; latency = the receipt POST sent
          (client clock) → the simulator's `at` of the first acknowledged push carrying that number or a
          later one (a coalesced change is reflected by the next push);
- loaded  the same while `order_rate` orders/s go straight onto omni.channel.orders (kafka_pool's Tmall mix,
          paced): they reserve the seeded coffee materials, so the seeded listings are recomputed and pushed
          alongside, but never the bench listing's material;
- hot     `hot_n` fulfillment.reservation-requested for BENCH-STOCK-HOT at BENCH-HOT at once (hot.py's
          method), with the listing L-BENCH-STOCK-HOT on it: the pushes/s the simulator received, and at quiet
          the simulator's number vs GET /listings/{id}/stock vs the material's available.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from rich.console import Console

from ..client import check, gateway
from ..demo import DemoError, explained, platform_qty, settled
from ..seed import SIM_URL, put_platform_items, seed_platform
from . import hot as hotmod
from .orders import Pacer, kafka_pool, post_setup, top_up
from .push import Push
from .stock_report import (
    HotStock,
    Latency,
    StockResults,
    match_latencies,
    per_second,
    pushes_of,
    render,
)
from .stock_watch import Meter, Watch, counters, service_ports
from .watch import ORDERS_SQL, connect

console = Console()
PHASES = ("idle", "bus", "quiet", "loaded", "hot")
STORE, HOT_NODE = "STORE-SH-01", hotmod.NODE
SHOP = "TM-OMNI-FLAGSHIP"


def bench_listing(kind: str, item: str, sku: str) -> dict[str, Any]:
    code = f"BENCH-STOCK-{kind}"
    return {
        "listing_id": f"L-{code}",
        "channel": "tmall",
        "shop_id": SHOP,
        "channel_item_id": item,
        "channel_sku_id": sku,
        "outer_id": code,
        "sales_product_code": code,
        "price_cents": 100,
    }


LAT = bench_listing("LAT", "880000000001", "8800000000001")
HOT = bench_listing("HOT", "880000000002", "8800000000002")
LAST_SQL = "SELECT max(created_at) AS t FROM reservations WHERE reservation_id = ANY($1::text[])"


@dataclass
class StockConfig:
    url: str
    api_key: str
    sim_url: str = SIM_URL
    seconds: float = 45  # the loaded phase
    quiet_seconds: float = 15
    idle_seconds: float = 10
    every_ms: float = 200
    order_rate: float = 200
    hot_n: int = 10_000
    bus_events: int = 10_000
    phases: list[str] = field(default_factory=lambda: list(PHASES))


def select(spec: str) -> list[str]:
    names = set(PHASES) if spec.strip() in ("", "all") else {p.strip() for p in spec.split(",") if p.strip()}
    if names - set(PHASES):
        raise ValueError(
            f"unknown phase(s) {', '.join(sorted(names - set(PHASES)))}; from {', '.join(PHASES)}"
        )
    return [p for p in PHASES if p in names]


# -- setup ------------------------------------------------------------------------------------------------
async def ensure_listing(client: httpx.AsyncClient, sim: httpx.AsyncClient, listing: dict[str, Any]) -> None:
    code = listing["sales_product_code"]
    material = {"code": code, "name": f"bench-stock material {code}", "unit": "pcs", "weight_g": 100}
    check(await client.put(f"/api/product/materials/{code}", json=material))
    product = {
        "code": code,
        "name": f"bench-stock {code}",
        "kind": "single",
        "components": [{"material_code": code, "qty": 1, "price_weight": 1}],
    }
    check(await client.put(f"/api/product/sales-products/{code}", json=product))
    await put_platform_items(client, sim, [listing])  # the item first: the first push is acknowledged
    check(await client.put(f"/api/product/channel-listings/{listing['listing_id']}", json=listing))
    deadline = time.monotonic() + 60
    while (await client.get(f"/api/inventory/listings/{listing['listing_id']}/stock")).status_code != 200:
        if time.monotonic() > deadline:
            raise TimeoutError(f"inventory never learnt listing {listing['listing_id']}")
        await asyncio.sleep(0.2)


async def published_seq(client: httpx.AsyncClient, listing_id: str) -> int:
    p = (await explained(client, listing_id))["published"]
    return p["seq"] if p else 0


# -- the phases -------------------------------------------------------------------------------------------
async def receipts(
    client: httpx.AsyncClient, tag: str, phase: str, seconds: float, every: float
) -> dict[str, tuple[float, float, int]]:
    """One receipt of 1 unit of the bench listing's material every `every` s, each sent at its slot (not
    waiting for the one before: a slow answer does not thin the changes out). Receipt id -> (sent, answered,
    the node's available after it, from the answer)."""
    out: dict[str, tuple[float, float, int]] = {}
    pacer, end, tasks = Pacer(1 / every), time.perf_counter() + seconds, []

    async def one(rid: str) -> None:
        body = {"receipt_id": rid, "node_code": STORE, "note": f"bench-stock {tag}",
                "lines": [{"material_code": LAT["sales_product_code"], "qty": 1}]}  # fmt: skip
        sent = time.time()
        after = await post_setup(client, "/api/inventory/receipts", body)
        out[rid] = (sent, time.time(), after["lines"][0]["available"])

    while time.perf_counter() < end:
        await pacer.wait()
        tasks.append(asyncio.create_task(one(f"bench-{tag}-{phase}-{len(tasks):05d}")))
    await asyncio.gather(*tasks)
    return out


MOVES_SQL = """
SELECT reference, at, on_hand_after - reserved_after - frozen_after AS available FROM movements
 WHERE node_code = $1 AND material_code = $2 AND reference = ANY($3::text[])"""


OUTBOX_SQL = """
SELECT event_type, count(*) AS n,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM sent_at - created_at)) AS p50,
       percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM sent_at - created_at)) AS p99
  FROM outbox WHERE created_at BETWEEN to_timestamp($1) AND to_timestamp($2) AND sent_at IS NOT NULL
   AND event_type = ANY($3::text[]) GROUP BY event_type"""
LISTING_PATH = ["inventory.stock-changed", "inventory.listing-stock-changed"]


async def outbox_wait(t0: float, t1: float) -> dict[str, tuple[int, float, float]]:
    """How long the listing path's events waited in inventory's outbox (created → sent) within [t0, t1]."""
    db = await connect("inventory")
    try:
        rows = await db.fetch(OUTBOX_SQL, t0, t1, LISTING_PATH)
    finally:
        await db.close()
    return {r["event_type"]: (r["n"], r["p50"], r["p99"]) for r in rows}


async def committed(rids: list[str]) -> dict[str, tuple[float, int]]:
    """The inventory's own record of each change: receipt id -> (the movement's `at`, available after)."""
    db = await connect("inventory")
    try:
        rows = await db.fetch(MOVES_SQL, STORE, LAT["sales_product_code"], rids)
    finally:
        await db.close()
    return {r["reference"]: (r["at"].timestamp(), r["available"]) for r in rows}


async def publish_paced(records: list, topic: str, bootstrap: str, rate: float) -> Push:
    """Records onto `topic`, `rate` per second (Pacer), acks=all like the services' relays."""
    import os

    from omni_chassis.kafka import make_producer

    out, pacer = Push(pool=len(records)), Pacer(rate)
    producer = make_producer(bootstrap, "omni-bench-stock", linger_ms=1)
    await producer.start()
    try:
        out.started_at, pending, t0 = datetime.now(UTC), [], time.perf_counter()
        for rec in records:
            await pacer.wait()
            topic_name = os.environ.get("OMNI_TOPIC_PREFIX", "") + topic
            pending.append(await producer.send(topic_name, rec.value, key=rec.key, headers=rec.headers))
            out.tids.append(rec.tid)
        await asyncio.gather(*pending)
        out.sent, out.seconds = len(records), time.perf_counter() - t0
    finally:
        await producer.stop()
    return out


async def allocated(tids: list[str], within: float = 90, stall: float = 15) -> tuple[int, int]:
    """(allocated, exception) among the orders, once every one settled or nothing moved for `stall` s."""
    db = await connect("order")
    try:
        last, changed, deadline = -1, time.monotonic(), time.monotonic() + within
        while True:
            rows = await db.fetch(ORDERS_SQL, tids)
            alloc = sum(r["allocated_at"] is not None for r in rows)
            exc = sum(r["exception_at"] is not None and r["allocated_at"] is None for r in rows)
            now = time.monotonic()
            if alloc + exc != last:
                last, changed = alloc + exc, now
            if last >= len(tids) or now - changed > stall or now > deadline:
                return alloc, exc
            await asyncio.sleep(1)
    finally:
        await db.close()


async def prepare_orders(cfg: StockConfig, client: httpx.AsyncClient, tag: str) -> list:
    """The loaded phase's orders, built beforehand, and the stock that covers them (outside its meter)."""
    n = int(cfg.order_rate * (cfg.seconds + 4))
    records, need = kafka_pool(n, tag, int(tag) + 7, 3_000_000_000, datetime.now(UTC))
    await top_up(client, tag, need, "stock-orders")
    return records


async def latency(
    cfg: StockConfig, client, sim, watch: Watch, tag: str, phase: str, bootstrap: str, records: list
) -> Latency:
    from omni_contracts import Topic

    base = await settled(client, sim, LAT)
    seq0, ports = await published_seq(client, LAT["listing_id"]), await service_ports()
    async with httpx.AsyncClient(timeout=10) as http:
        c0 = await counters(http, ports)
        t0 = time.time()
        seconds = cfg.quiet_seconds if phase == "quiet" else cfg.seconds
        every = cfg.every_ms / 1000
        orders = None
        if phase == "loaded":
            send = asyncio.create_task(
                publish_paced(records, Topic.CHANNEL_ORDERS, bootstrap, cfg.order_rate)
            )
            await asyncio.sleep(2)  # the orders are flowing before the first change
            c0, t0 = await counters(http, ports), time.time()
            sent = await receipts(client, tag, phase, seconds, every)
            pushed = await send
            alloc, exc = await allocated(pushed.tids)
            rate = pushed.sent / pushed.seconds
            orders = (
                f"{pushed.sent:,} orders onto omni.channel.orders at {rate:,.0f}/s "
                f"(asked {cfg.order_rate:,.0f}/s): {alloc:,} allocated, {exc:,} exception"
            )
        else:
            sent = await receipts(client, tag, phase, seconds, every)
        note, final = None, None
        try:
            final = await settled(client, sim, LAT)
        except DemoError as exc:
            final, note = None, f"the simulator never caught up: {exc}"
        await watch.poll_calls()
        c1 = await counters(http, ports)
    t1 = time.time()
    calls = watch.all_calls()
    deltas = {k: c1[k] - c0[k] for k in c0}
    deltas["sim_updates"] = sum(1 for c in calls if t0 <= c["at"] <= t1 and c.get("outcome") == "ok")
    pushes = pushes_of(calls, LAT["channel_item_id"], since=t0 - 1, until=t1)
    try:
        moves = await committed(list(sent))
    except Exception as exc:  # the inventory's schema moved: the client's times only
        moves, note = {}, f"movements not read ({type(exc).__name__}): latency from the POST's answer"
    top = max((q for *_, q in sent.values()), default=0)
    offset = (final - top) if final is not None else 0  # the listing's number minus the node's available
    if offset and note is None:
        note = f"listing {final:,} ≠ the node's available {top:,}: rules change the number (offset used)"
    by_server = [(moves.get(rid, (ans, q))[0], q + offset) for rid, (_, ans, q) in sent.items()]
    by_sent = [(snt, q + offset) for snt, _, q in sent.values()]
    try:
        waits = await outbox_wait(t0, t1)
    except Exception as exc:  # a measurement: the rest stands without it
        waits = {}
        console.print(f"[yellow]inventory outbox not read: {exc!r}[/]")
    seq1 = await published_seq(client, LAT["listing_id"])
    span = max(x for x, *_ in sent.values()) - min(x for x, *_ in sent.values()) if len(sent) > 1 else 0
    return Latency(phase, len(sent), seconds, match_latencies(by_server, pushes), seq1 - seq0, len(pushes),
                   deltas, orders, note, match_latencies(by_sent, pushes),
                   (len(sent) - 1) / span if span else None, base, waits)  # fmt: skip


async def hot_phase(cfg: StockConfig, client, sim, watch: Watch, tag: str, bootstrap: str) -> HotStock:
    from omni_contracts import Topic

    material, extra = HOT["sales_product_code"], 37  # a few more than reserved: the final number is not 0
    out = HotStock(cfg.hot_n)
    await hotmod.receive(client, tag, "stock-hot", Counter({material: cfg.hot_n + extra}))
    await settled(client, sim, HOT)
    seq0 = await published_seq(client, HOT["listing_id"])
    records = hotmod.build(tag, "stock-hot", cfg.hot_n, [material])
    db = await connect("inventory")
    try:
        t0 = time.time()
        pushed = await hotmod.publish(records, Topic.FULFILLMENT, bootstrap)
        r = await hotmod.wait_reserved(db, [x.tid for x in records], pushed.started_at)
        out.reserve_rate, out.reserved = r.rate, r.reserved
        last = (await db.fetchrow(LAST_SQL, [x.tid for x in records]))["t"]
        out.note = r.unfinished
    finally:
        await db.close()
    try:
        out.explained = await settled(client, sim, HOT)
        await asyncio.sleep(2)  # quiet: nothing more may arrive
    except DemoError as exc:
        out.note = f"the simulator never showed the listing's number: {exc}"
    await watch.poll_calls()
    pushes = pushes_of(watch.all_calls(), HOT["channel_item_id"], since=t0)
    if pushes and last is not None:
        final_at = next(at for at, q in pushes if q == pushes[-1][1])
        out.quiet_after_s = final_at - last.timestamp()
    out.pushes, out.pushes_per_s = len(pushes), per_second([at for at, _ in pushes])
    out.listing_events = await published_seq(client, HOT["listing_id"]) - seq0
    out.platform = await platform_qty(sim, HOT)
    out.explained = (await explained(client, HOT["listing_id"]))["quantity"]
    stock = check(await client.get("/api/inventory/stock", params={"material_code": material, "limit": 200}))
    out.available = sum(s["available"] for s in stock["items"])
    return out


async def run_stock_bench(cfg: StockConfig) -> StockResults:
    from .bus import run_bus
    from .run import bootstrap, machine

    tag = f"{random.SystemRandom().randrange(10**6):06d}"
    res = StockResults(tag)
    console.print(
        f"[bold]omni bench-stock[/] run {tag}: phases {', '.join(cfg.phases)}; receipts every "
        f"{cfg.every_ms:.0f} ms; {cfg.order_rate:,.0f} orders/s for {cfg.seconds:.0f} s; hot SKU "
        f"{cfg.hot_n:,}; gateway {cfg.url}, simulator {cfg.sim_url}"
    )
    console.print(machine())
    async with (
        gateway(cfg.url, cfg.api_key) as client,
        httpx.AsyncClient(base_url=cfg.sim_url, timeout=10) as sim,
    ):
        try:
            check(await client.get("/health/ready"))
            await seed_platform(client, cfg.sim_url)
            for listing in (LAT, HOT):
                await ensure_listing(client, sim, listing)
            await post_setup(
                client,
                "/api/inventory/receipts",
                {
                    "receipt_id": "bench-stock-open-LAT",
                    "node_code": STORE,
                    "lines": [{"material_code": "BENCH-STOCK-LAT", "qty": 100}],
                },
            )
        except Exception as exc:
            console.print(f"[red]setup failed ({exc!r}): is `make up` running?[/]")
            raise SystemExit(1) from None
        watch = Watch(sim)
        watch.start()
        try:
            for phase in cfg.phases:
                console.rule(f"[bold]{phase}")
                t = time.perf_counter()
                try:
                    records = await prepare_orders(cfg, client, tag) if phase == "loaded" else []
                    async with Meter(watch) as meter:
                        if phase == "idle":
                            await asyncio.sleep(cfg.idle_seconds)
                        elif phase == "bus":
                            bus = await run_bus(cfg.bus_events)
                            res.bus_batched, res.bus_single_p50_ms = (
                                bus.chassis_batched,
                                bus.chassis_single_p50_ms,
                            )
                        elif phase in ("quiet", "loaded"):
                            lat = await latency(cfg, client, sim, watch, tag, phase, bootstrap(), records)
                            setattr(res, phase, lat)
                        elif phase == "hot":
                            res.hot = await hot_phase(cfg, client, sim, watch, tag, bootstrap())
                    if phase != "bus":
                        res.usage[phase] = meter.usage
                except Exception as exc:  # a measurement: say what failed, measure the rest
                    res.skipped[phase] = f"failed: {type(exc).__name__}: {str(exc)[:160]}"
                    console.print(f"[red]{phase} failed:[/] {exc!r}")
                console.print(f"{phase}: {time.perf_counter() - t:,.0f} s")
        finally:
            await watch.stop()
    wide = console if console.is_terminal else Console(width=max(console.width, 150))
    wide.print(render(res))
    console.print(machine())
    return res
