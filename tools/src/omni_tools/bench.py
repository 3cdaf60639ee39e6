"""`make bench`: push N signed Tmall orders through the gateway; report throughput and latency.

What is measured comes FROM THE SERVICES' OWN TIMESTAMPS, read from their databases: a benchmark may read
the stores directly (read-only connections, `default_transaction_read_only`), because the services' APIs
are for people and paging 10,000 orders through them would measure the API, not the flow. It reads:

- omni_order   `orders` (`order_id`, `channel_order_id`, `received_at` = when the channel webhook accepted
               the trade, `status`, `status_reason_code`, `status_reason`) and `order_status_history`
               (`order_id`, `to_status`, `at`): the first `allocated` (or `exception`) of each order;
- omni_finance `vouchers` (`order_id`, `kind` = 'sale', `posted_at`): when the sale voucher was booked.

Only the webhook accept rate (and its latency) is measured on the client. The run is tagged: every tid
starts with `4` + a six-digit run tag, so the run's orders are exactly the tids it remembers. Before the
push, one inventory receipt (unique per run) at WH-HZ and at WH-BJ covers the whole run's demand, so every
order is allocatable. It prints tables; it asserts nothing.
"""

from __future__ import annotations

import asyncio
import math
import os
import platform
import random
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .client import GatewayError, check, gateway
from .tmall import ADDRESSES, Line, signed_request, trade
from .waits import wait_for_stock

console = Console()
MATERIALS_OF = {
    "SET-COFFEE-PRO": ["BEAN-YN-250", "BEAN-ETH-250", "BEAN-COL-250", "MACHINE-AUTO-01"],
    "BEAN-ETH-500": ["BEAN-ETH-500"],
}
TOPUP_NODES = ("WH-HZ", "WH-BJ")
_RO = {"default_transaction_read_only": "on", "application_name": "omni-bench"}  # read-only sessions


# -- pure computations (tested in tools/tests/test_bench_stats.py) -------------------------------------------
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


def fmt_pcts(values: Sequence[float]) -> str:
    ps = [percentile(values, q) for q in (50, 95, 99)]
    return "—" if ps[0] is None else " / ".join(f"{p:,.0f}" for p in ps) + f"  (max {max(values):,.0f})"


def fmt_rate(r: float | None, unit: str = "orders/s") -> str:
    return "—" if r is None else f"{r:,.1f} {unit}"


# -- the run ------------------------------------------------------------------------------------------------
@dataclass
class Push:
    tids: list[str] = field(default_factory=list)  # accepted by the webhook
    latencies_ms: list[float] = field(default_factory=list)
    refused: Counter = field(default_factory=Counter)
    retries: Counter = field(default_factory=Counter)  # why a request was sent again
    seconds: float = 0.0


def build_orders(n: int, tag: str, seed: int) -> list[dict]:
    """A realistic mix: mostly beans, some coffee sets, some both; four cities; some freight and discounts."""
    rnd = random.Random(seed)
    docs = []
    for i in range(n):
        kind = rnd.choices(["beans", "set", "both"], weights=[65, 20, 15])[0]
        lines = []
        if kind in ("set", "both"):
            lines.append(Line("SET-COFFEE-PRO", 1, Decimal("3099.00") - rnd.choice([0, 0, 50, 91])))
        if kind in ("beans", "both"):
            qty = rnd.choices([1, 2, 3], weights=[60, 25, 15])[0]
            lines.append(Line("BEAN-ETH-500", qty, Decimal("99.00") * qty - rnd.choice([0, 0, 5])))
        tid = f"4{tag}{i:010d}00"  # 19 digits; multi-line oids (tid[:-2] + NN) never collide across orders
        docs.append(
            trade(
                lines,
                tid=tid,
                address=rnd.randrange(len(ADDRESSES)),
                post_fee_cents=rnd.choice([0, 0, 0, 1000, 1200]),
            )
        )
    return docs


def demand(docs: Iterable[dict]) -> Counter:
    need: Counter = Counter()
    for doc in docs:
        for o in doc["trade_fullinfo_get_response"]["trade"]["orders"]["order"]:
            for material in MATERIALS_OF[o["outer_iid"]]:
                need[material] += o["num"]
    return need


async def top_up(client: httpx.AsyncClient, tag: str, need: Counter) -> None:
    for node in TOPUP_NODES:
        receipt = {
            "receipt_id": f"bench-{tag}-{node}",
            "node_code": node,
            "note": f"bench run {tag}",
            "lines": [{"material_code": m, "qty": q} for m, q in sorted(need.items())],
        }
        after = check(await client.post("/api/inventory/receipts", json=receipt), 200, 201)
        for line in after["lines"]:
            try:
                await wait_for_stock(client, node, line["material_code"], line["available"], timeout=60)
            except TimeoutError as exc:
                console.print(f"[yellow]warning:[/] {exc}")
    console.print(
        f"stock topped up at {', '.join(TOPUP_NODES)}: "
        + ", ".join(f"{q:,} {m}" for m, q in sorted(need.items()))
        + " each; fulfillment sees it"
    )


class Pacer:
    """Hands out send slots at a steady `rate` per second (0: as fast as possible)."""

    def __init__(self, rate: float) -> None:
        self.interval = 1 / rate if rate > 0 else 0.0
        self.next_at = time.perf_counter()

    async def wait(self) -> None:
        if not self.interval:
            return
        slot, self.next_at = self.next_at, max(self.next_at, time.perf_counter()) + self.interval
        delay = slot - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)


async def push(client: httpx.AsyncClient, docs: list[dict], concurrency: int, rate: float = 0) -> Push:
    out, todo = Push(), iter(docs)
    with Progress(
        TextColumn("pushing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("push", total=len(docs))

        async def send(doc: dict) -> None:
            tid = doc["trade_fullinfo_get_response"]["trade"]["tid_str"]
            for attempt in range(6):
                params, body = signed_request(doc)
                t0 = time.perf_counter()
                try:
                    r = await client.post(
                        "/channels/tmall/orders",
                        params=params,
                        content=body,
                        headers={"content-type": "application/json"},
                    )
                except httpx.TransportError as exc:  # the webhook is idempotent per tid: resend
                    why = f"{type(exc).__name__}"
                else:
                    if r.status_code == 202 and r.json().get("accepted"):
                        out.latencies_ms.append((time.perf_counter() - t0) * 1000)
                        out.tids.append(tid)
                        return
                    why = f"{r.status_code} {r.text[:160]}"
                    if r.status_code not in (429, 502, 503, 504):
                        break
                out.retries[why] += 1
                await asyncio.sleep(min(0.1 * 2**attempt, 2))
            out.refused[why] += 1

        pacer = Pacer(rate)

        async def worker() -> None:
            for doc in todo:  # one shared iterator: every doc is sent once
                await pacer.wait()
                await send(doc)
                bar.advance(task)

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        out.seconds = time.perf_counter() - t0
    return out


async def push_kafka(docs: list[dict], bootstrap: str, rate: float = 0) -> Push:
    """Publish the orders as a third-party channel adapter would: normalised by the Tmall adapter's own code
    and put straight on `omni.channel.orders` (no HTTP edge). This measures the event pipeline alone."""
    from datetime import UTC, datetime

    from omni_channel.domain.tmall import Accepted, normalise_trade
    from omni_chassis.kafka import make_producer
    from omni_contracts import Topic, make_envelope
    from omni_contracts.events.channel import channel_order_key

    topic = os.environ.get("OMNI_TOPIC_PREFIX", "") + Topic.CHANNEL_ORDERS
    out = Push()
    producer = make_producer(bootstrap, "omni-bench", linger_ms=5)
    await producer.start()
    t0 = time.perf_counter()
    try:
        pending = []
        pacer = Pacer(rate)
        for doc in docs:
            await pacer.wait()
            shop = doc["trade_fullinfo_get_response"]["trade"].get("seller_nick", "")
            outcome = normalise_trade(doc, shop_id="TM-OMNI-FLAGSHIP", received_at=datetime.now(UTC))
            if not isinstance(outcome, Accepted):
                out.refused[f"not accepted by the adapter ({shop})"] += 1
                continue
            key = channel_order_key("tmall", outcome.channel_order_id)
            env = make_envelope(outcome.event, producer="omni-bench", key=key)
            pending.append(
                await producer.send(topic, env.to_bytes(), key=key.encode(), headers=env.headers())
            )
            out.tids.append(outcome.channel_order_id)
            if len(pending) >= 1000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    out.seconds = time.perf_counter() - t0
    return out


def db_url(service: str) -> str:
    from omni_chassis.settings import CommonSettings, database_for, plain_url

    own = os.environ.get(f"{service.upper()}_DATABASE_URL")
    server = plain_url(CommonSettings().database_url)
    return plain_url(own) if own else database_for(server, f"omni_{service}")


ORDERS_SQL = """
SELECT o.order_id, o.channel_order_id, o.received_at, o.status, o.status_reason_code, o.status_reason,
       h.accepted_at, h.allocated_at, h.exception_at
  FROM orders o
  LEFT JOIN LATERAL (
       SELECT min(at) FILTER (WHERE to_status = 'accepted') AS accepted_at,
              min(at) FILTER (WHERE to_status = 'allocated') AS allocated_at,
              min(at) FILTER (WHERE to_status = 'exception') AS exception_at
         FROM order_status_history WHERE order_id = o.order_id) h ON true
 WHERE o.channel = 'tmall' AND o.channel_order_id = ANY($1::text[])"""
VOUCHERS_SQL = """
SELECT order_id, min(posted_at) AS posted_at FROM vouchers
 WHERE kind = 'sale' AND order_id = ANY($1::text[]) GROUP BY order_id"""


@dataclass
class Seen:
    orders: dict[str, Any] = field(default_factory=dict)  # tid -> row
    vouchered: dict[str, datetime] = field(default_factory=dict)  # order_id -> posted_at

    def settled(self, row: Any) -> bool:
        return row["allocated_at"] is not None or row["exception_at"] is not None

    def needs_voucher(self, row: Any) -> bool:
        return row["accepted_at"] is not None and row["order_id"] not in self.vouchered


async def watch(
    order_db: asyncpg.Connection,
    finance_db: asyncpg.Connection,
    tids: list[str],
    within: float,
    stall: float = 120,
) -> tuple[Seen, str | None]:
    """Poll the stores until every order is allocated (or exception) and vouchered: (seen, why not)."""
    seen, n = Seen(), len(tids)
    deadline, last_change, last_count = time.monotonic() + within, time.monotonic(), -1
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        settled = bar.add_task("allocated | exception", total=n)
        booked = bar.add_task("sale voucher posted  ", total=n)
        while True:
            pending = [t for t in tids if t not in seen.orders or not seen.settled(seen.orders[t])]
            if pending:
                for row in await order_db.fetch(ORDERS_SQL, pending):
                    seen.orders[row["channel_order_id"]] = row
            want = [r["order_id"] for r in seen.orders.values() if seen.needs_voucher(r)]
            if want:
                for row in await finance_db.fetch(VOUCHERS_SQL, want):
                    seen.vouchered[row["order_id"]] = row["posted_at"]
            n_settled = sum(seen.settled(r) for r in seen.orders.values())
            bar.update(settled, completed=n_settled)
            bar.update(booked, completed=len(seen.vouchered))
            if n_settled == n and not any(seen.needs_voucher(r) for r in seen.orders.values()):
                return seen, None
            now = time.monotonic()
            if n_settled + len(seen.vouchered) != last_count:
                last_count, last_change = n_settled + len(seen.vouchered), now
            if now > deadline:
                return seen, f"timed out after {within:.0f}s"
            if now - last_change > stall:
                return seen, f"no progress for {stall:.0f}s"
            await asyncio.sleep(1.0)


def machine() -> str:
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"machine: {os.cpu_count()} cores, load {load} (1/5/15 min), {platform.machine()}, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    )


def report(n: int, tag: str, pushed: Push, seen: Seen, why: str | None) -> Table:
    rows = list(seen.orders.values())
    received = {r["order_id"]: r["received_at"] for r in rows}
    allocated = {r["order_id"]: r["allocated_at"] for r in rows if r["allocated_at"] is not None}
    vouchered = {k: v for k, v in seen.vouchered.items() if k in received}
    exceptions = Counter(
        f"{r['status_reason_code'] or '-'}: {(r['status_reason'] or '')[:80]}"
        for r in rows
        if r["exception_at"] is not None
    )
    t = Table(
        title=f"order flow: {n:,} signed Tmall orders through the gateway (run {tag})", title_justify="left"
    )
    t.add_column("measure")
    t.add_column("value", justify="right")
    refused = sum(pushed.refused.values())
    t.add_row(
        "orders pushed / accepted by the webhook",
        f"{n:,} / {len(pushed.tids):,}"
        + (f" ([red]{refused:,} refused[/])" if refused else "")
        + f", {sum(pushed.retries.values()):,} retries",
    )
    t.add_row("webhook accept rate (client side)", fmt_rate(rate(len(pushed.tids), 0.0, pushed.seconds)))
    t.add_row("webhook answer p50/p95/p99 (ms, client side)", fmt_pcts(pushed.latencies_ms))
    t.add_row("orders seen by the order service", f"{len(rows):,}")
    t.add_row(
        "sustained: webhook-accepted → allocated",
        fmt_rate(sustained(received, allocated)) + f" ({len(allocated):,} allocated)",
    )
    t.add_row(
        "sustained: webhook-accepted → sale voucher",
        fmt_rate(sustained(received, vouchered)) + f" ({len(vouchered):,} vouchered)",
    )
    t.add_row(
        "latency webhook-accepted → allocated p50/p95/p99 (ms)", fmt_pcts(latencies_ms(received, allocated))
    )
    t.add_row(
        "latency webhook-accepted → vouchered p50/p95/p99 (ms)", fmt_pcts(latencies_ms(received, vouchered))
    )
    t.add_row("exceptions", f"{sum(exceptions.values()):,}")
    for reason, count in exceptions.most_common(5):
        t.add_row(f"  [red]{escape(reason)}[/]", f"{count:,}")
    for reason, count in pushed.refused.most_common(3):
        t.add_row(f"  refused: [red]{escape(reason)}[/]", f"{count:,}")
    for reason, count in pushed.retries.most_common(3):
        t.add_row(f"  retried: [yellow]{escape(reason)}[/]", f"{count:,}")
    if why:
        stuck = Counter(r["status"] for r in rows if not (r["allocated_at"] or r["exception_at"]))
        missing = len(pushed.tids) - len(rows)
        parts = [f"{c:,} {s}" for s, c in stuck.most_common()] + (
            [f"{missing:,} never seen"] if missing else []
        )
        t.add_row(f"[yellow]unfinished ({why})[/]", ", ".join(parts) or "0")
    t.caption = (
        "rates and latencies from the services' timestamps (orders.received_at, "
        "order_status_history.at, vouchers.posted_at); the webhook rate from the client"
    )
    return t


async def run_bench(
    url: str, api_key: str, orders: int, concurrency: int, bus: bool, via: str = "webhook", rate: float = 0
) -> None:
    tag = f"{random.SystemRandom().randrange(10**6):06d}"
    pace = f"at {rate:g} orders/s" if rate else "as fast as possible"
    console.print(
        f"[bold]omni bench[/] run {tag}: {orders:,} orders via {via}, {pace}, "
        f"{concurrency} in flight, gateway {url}"
    )
    console.print(machine())
    docs = build_orders(orders, tag, seed=int(tag))
    limits = httpx.Limits(max_connections=concurrency + 4, max_keepalive_connections=concurrency + 4)
    try:
        async with gateway(url, api_key, limits=limits) as client:
            try:
                check(await client.get("/health/ready"))
            except httpx.TransportError as exc:
                msg = f"cannot reach the gateway at {url} ({exc!r}) — is `make up` running?"
                raise GatewayError(msg) from exc
            await top_up(client, tag, demand(docs))
            if via == "kafka":
                from omni_chassis.settings import CommonSettings

                pushed = await push_kafka(docs, CommonSettings().kafka_bootstrap_servers, rate)
            else:
                pushed = await push(client, docs, concurrency, rate)
        how = "published to omni.channel.orders" if via == "kafka" else "webhook accepted"
        console.print(f"pushed {orders:,} in {pushed.seconds:.1f}s; {how} {len(pushed.tids):,}")
        order_db = await asyncpg.connect(db_url("order"), server_settings=_RO)
        finance_db = await asyncpg.connect(db_url("finance"), server_settings=_RO)
    except (GatewayError, OSError, asyncpg.PostgresError) as exc:
        console.print(f"[red]bench failed:[/] {exc}")
        raise SystemExit(1) from None
    try:
        seen, why = await watch(order_db, finance_db, pushed.tids, within=60 + 0.06 * orders)
    finally:
        await order_db.close()
        await finance_db.close()
    console.print(report(orders, tag, pushed, seen, why))
    console.print(machine())
    if bus:
        from omni_chassis.bench_bus import print_rows, run_all

        console.print("bus baseline: 50,000 raw, 5,000 FastStream, 20,000 chassis events …")
        print_rows(await run_all(50_000, 5_000, 20_000))
        console.print(machine())
