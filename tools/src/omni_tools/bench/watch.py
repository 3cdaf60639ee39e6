"""What happened to the orders, FROM THE SERVICES' OWN TIMESTAMPS, read from their databases.

A benchmark may read the stores directly (read-only sessions, `default_transaction_read_only`): the
services' APIs are for people, and paging 10,000 orders through them would measure the API, not the flow.

- omni_order   `orders` (`order_id`, `channel_order_id`, `received_at` = when the channel webhook accepted
               the trade, `status`, `status_reason_code`, `status_reason`) and `order_status_history`
               (`order_id`, `to_status`, `at`): the first `allocated` (or `exception`) of each order;
- omni_finance `vouchers` (`order_id`, `kind` = 'sale', `posted_at`): when the sale voucher was booked.

While the flow drains, only the last orders sent are polled (a cheap probe, so the bench does not load the
database it measures); once they are done, every order is read.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from .push import Push
from .stats import latencies_ms, sustained, sustained_since

console = Console()
RO = {"default_transaction_read_only": "on", "application_name": "omni-bench"}  # read-only sessions
PROBE = 256  # orders polled while the flow drains


def db_url(service: str) -> str:
    from omni_chassis.settings import CommonSettings, database_for, plain_url

    own = os.environ.get(f"{service.upper()}_DATABASE_URL")
    server = plain_url(CommonSettings().database_url)
    return plain_url(own) if own else database_for(server, f"omni_{service}")


async def connect(service: str) -> asyncpg.Connection:
    return await asyncpg.connect(db_url(service), server_settings=RO)


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

    def done(self, tid: str) -> bool:
        row = self.orders.get(tid)
        return row is not None and self.settled(row) and not self.needs_voucher(row)

    async def poll(
        self, order_db: asyncpg.Connection, finance_db: asyncpg.Connection, tids: list[str]
    ) -> None:
        pending = [t for t in tids if t not in self.orders or not self.settled(self.orders[t])]
        if pending:
            for row in await order_db.fetch(ORDERS_SQL, pending):
                self.orders[row["channel_order_id"]] = row
        rows = (self.orders[t] for t in tids if t in self.orders)
        want = [r["order_id"] for r in rows if self.needs_voucher(r)]
        if want:
            for row in await finance_db.fetch(VOUCHERS_SQL, want):
                self.vouchered[row["order_id"]] = row["posted_at"]


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
    probe = tids[-PROBE:]
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        task = bar.add_task("last orders sent: allocated and vouchered", total=len(probe))
        while True:
            watching = probe if probe else tids
            await seen.poll(order_db, finance_db, watching)
            count = sum(seen.done(t) for t in watching)
            bar.update(task, completed=count)
            if count == len(watching):
                if not probe:
                    return seen, None
                probe = []  # the probe is through: now every order
                bar.update(task, description="every order: allocated and vouchered", total=n)
                continue
            now = time.monotonic()
            if count != last_count:
                last_count, last_change = count, now
            if now > deadline or now - last_change > stall:
                if probe:  # read every order once, for what did arrive
                    await seen.poll(order_db, finance_db, tids)
                why = f"timed out after {within:.0f}s" if now > deadline else f"no progress for {stall:.0f}s"
                return seen, why
            await asyncio.sleep(1.0)


# -- one flow's numbers -----------------------------------------------------------------------------------
@dataclass
class Flow:
    """A load phase: what was sent, and what the services' timestamps say about it."""

    pushed: Push
    seen: int = 0  # orders the order service has
    to_allocated: float | None = None  # sustained orders/s
    to_voucher: float | None = None
    allocated_ms: list[float] = field(default_factory=list)  # received -> allocated, per order
    allocated: int = 0
    vouchered: int = 0
    exceptions: Counter = field(default_factory=Counter)
    unfinished: str | None = None  # why the watch stopped early, and what was left
    rate: float = 0.0  # the pace asked for (0: as fast as possible)


def summarize(
    pushed: Push, seen: Seen, why: str | None, since: datetime | None = None, rate: float = 0
) -> Flow:
    """Rates and latencies from the services' timestamps. `since`: the burst was sent from then on (Kafka
    intake: the rate counts from the first record published, not from each order's own receipt)."""
    rows = list(seen.orders.values())
    received = {r["order_id"]: r["received_at"] for r in rows}
    allocated = {r["order_id"]: r["allocated_at"] for r in rows if r["allocated_at"] is not None}
    vouchered = {k: v for k, v in seen.vouchered.items() if k in received}
    flow = Flow(pushed, seen=len(rows), allocated=len(allocated), vouchered=len(vouchered), rate=rate)
    if since is not None:
        flow.to_allocated, flow.to_voucher = (
            sustained_since(since, allocated),
            sustained_since(since, vouchered),
        )
    else:
        flow.to_allocated, flow.to_voucher = sustained(received, allocated), sustained(received, vouchered)
    flow.allocated_ms = latencies_ms(received, allocated)
    flow.exceptions = Counter(
        f"{r['status_reason_code'] or '-'}: {(r['status_reason'] or '')[:80]}"
        for r in rows
        if r["exception_at"] is not None
    )
    if why:
        stuck = Counter(r["status"] for r in rows if not (r["allocated_at"] or r["exception_at"]))
        missing = len(pushed.tids) - len(rows)
        parts = [f"{c:,} {s}" for s, c in stuck.most_common()] + (
            [f"{missing:,} never seen"] if missing else []
        )
        flow.unfinished = f"{why}: " + (", ".join(parts) or "not vouchered")
    return flow


async def follow(pushed: Push, since: datetime | None = None, rate: float = 0) -> Flow:
    """Watch the pushed orders through allocation and the sale voucher; their numbers."""
    order_db, finance_db = await connect("order"), await connect("finance")
    try:
        seen, why = await watch(order_db, finance_db, pushed.tids, within=120 + 0.06 * len(pushed.tids))
    finally:
        await order_db.close()
        await finance_db.close()
    return summarize(pushed, seen, why, since, rate)
