"""Hot SKU: N reservations all on one (node, material) against N spread over N materials.

Driven at the inventory service's own input: `fulfillment.reservation-requested` events (the contract
fulfillment sends) put on omni.fulfillment, keyed by order id as fulfillment keys them. This isolates the
reservation path, which is what contends on a hot row; no catalog is needed (inventory keeps stock per
(node, material) code). The node, BENCH-HOT, is not a fulfillment node, so nothing ever sources real orders
from it; fulfillment ignores inventory's replies for orders it did not source. Each run receives exactly
its demand (receipt bench-<tag>-hot / -spread-K) and leaves its reservations held (stock there only grows).

The reserve rate: requests answered / (the last of the run's reservations.created_at, the inventory's own
timestamp, − the first request published; the reservations of one batch may share one created_at).
Oversold (read-only): any stock row with reserved + frozen > on hand, or a BENCH-HOT row holding more
reserved than it ever received (the sum of its receipt movements).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from rich.console import Console

from .orders import Record, post_setup
from .push import publish
from .stats import rate
from .watch import connect

console = Console()
NODE = "BENCH-HOT"
HOT_MATERIAL = "BENCH-HOT-SKU"
RECEIPT_LINES = 500  # the inventory API's limit per receipt


def spread_materials(n: int) -> list[str]:
    return [f"BENCH-SKU-{i:04d}" for i in range(n)]


def oversold(rows: Iterable[Any]) -> list[str]:
    """The stock rows that hold more than they may: reserved + frozen above on hand, or (where `received`
    is known) more reserved than was ever received. Rows have node_code, material_code, on_hand, reserved,
    frozen and optionally received."""
    bad = []
    for r in rows:
        received = r.get("received")
        if r["reserved"] + r["frozen"] > r["on_hand"]:
            bad.append(
                f"{r['material_code']}@{r['node_code']}: reserved {r['reserved']} > on hand {r['on_hand']}"
            )
        elif received is not None and r["reserved"] > received:
            bad.append(
                f"{r['material_code']}@{r['node_code']}: reserved {r['reserved']} > received {received}"
            )
    return bad


@dataclass
class Reserving:
    """One scenario: how many reserved (and refused), and at what rate."""

    n: int
    reserved: int = 0
    refused: int = 0
    rate: float | None = None
    unfinished: str | None = None


@dataclass
class Hot:
    n: int
    hot: Reserving
    spread: Reserving
    oversold: list[str] = field(default_factory=list)


def build(tag: str, scenario: str, n: int, materials: list[str]) -> list[Record]:
    from omni_contracts import make_envelope
    from omni_contracts.events.common import MaterialQty
    from omni_contracts.events.fulfillment import ReservationRequestedV1

    out = []
    for i in range(n):
        rid = f"bench-{tag}-{scenario}-{i:05d}"
        data = ReservationRequestedV1(
            reservation_id=rid,
            order_id=rid,
            node_code=NODE,
            lines=[MaterialQty(material_code=materials[i % len(materials)], qty=1)],
            attempt=1,
        )
        env = make_envelope(data, producer="omni-bench", key=rid)
        out.append(Record(rid, rid.encode(), env.to_bytes(), env.headers()))
    return out


async def receive(client: httpx.AsyncClient, tag: str, scenario: str, need: Counter) -> None:
    lines = [{"material_code": m, "qty": q} for m, q in sorted(need.items())]
    for k in range(0, len(lines), RECEIPT_LINES):
        receipt = {
            "receipt_id": f"bench-{tag}-{scenario}-{k // RECEIPT_LINES}",
            "node_code": NODE,
            "note": f"bench run {tag}: hot SKU",
            "lines": lines[k : k + RECEIPT_LINES],
        }
        await post_setup(client, "/api/inventory/receipts", receipt)


RESERVATIONS_SQL = """
SELECT count(*) FILTER (WHERE status = 'reserved') AS reserved,
       count(*) FILTER (WHERE status = 'refused') AS refused,
       count(*) AS total, min(created_at) AS first, max(created_at) AS last
  FROM reservations WHERE reservation_id = ANY($1::text[])"""
OVER_ON_HAND_SQL = """
SELECT node_code, material_code, on_hand, reserved, frozen FROM stock WHERE reserved + frozen > on_hand"""
BENCH_ROWS_SQL = """
SELECT s.node_code, s.material_code, s.on_hand, s.reserved, s.frozen,
       (SELECT coalesce(sum(m.delta_on_hand), 0) FROM movements m
         WHERE m.node_code = s.node_code AND m.material_code = s.material_code AND m.kind = 'receipt')
       AS received
  FROM stock s WHERE s.node_code = $1"""


async def wait_reserved(
    db: Any, ids: list[str], since: datetime | None, within: float = 300, stall: float = 60
) -> Reserving:
    """Poll until every request has its reservation row; the rate is answered requests over (last
    created_at − the first request published): a batch's reservations may share one created_at."""
    out = Reserving(len(ids))
    deadline, last, last_change = time.monotonic() + within, -1, time.monotonic()
    while True:
        row = await db.fetchrow(RESERVATIONS_SQL, ids)
        out.reserved, out.refused = row["reserved"], row["refused"]
        out.rate = rate(row["total"], since or row["first"], row["last"])
        now = time.monotonic()
        if row["total"] >= len(ids):
            return out
        if row["total"] != last:
            last, last_change = row["total"], now
        if now > deadline or now - last_change > stall:
            out.unfinished = f"{len(ids) - row['total']:,} of {len(ids):,} never answered"
            return out
        await asyncio.sleep(0.5)


async def run_hot(client: httpx.AsyncClient, tag: str, n: int, bootstrap: str) -> Hot:
    from omni_contracts import Topic

    scenarios = {"spread": spread_materials(n), "hot": [HOT_MATERIAL]}
    db = await connect("inventory")
    results: dict[str, Reserving] = {}
    try:
        for scenario, materials in scenarios.items():
            records = build(tag, scenario, n, materials)
            need = Counter(materials[i % len(materials)] for i in range(n))
            await receive(client, tag, scenario, need)
            pushed = await publish(records, Topic.FULFILLMENT, bootstrap)
            results[scenario] = await wait_reserved(db, [r.tid for r in records], pushed.started_at)
            r = results[scenario]
            console.print(
                f"  {scenario}: {r.reserved:,} reserved, {r.refused:,} refused"
                + (f", {r.rate:,.0f}/s" if r.rate else "")
            )
        bad = oversold(await db.fetch(OVER_ON_HAND_SQL))
        bad += [b for b in oversold([dict(r) for r in await db.fetch(BENCH_ROWS_SQL, NODE)]) if b not in bad]
    finally:
        await db.close()
    return Hot(n, results["hot"], results["spread"], bad)
