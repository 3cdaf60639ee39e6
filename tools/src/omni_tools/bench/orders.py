"""The load: a realistic mix of Tmall trades, the stock that covers them, and every request built and signed
BEFORE a timed phase (so that sending costs the load generator as little as possible).

The run is tagged: every tid starts with `4` + a six-digit run tag (+ the phase's own range of numbers), so a
run's orders are exactly the tids it remembers. Before a phase, one inventory receipt (unique per run and
phase) at WH-HZ and at WH-BJ covers the phase's whole demand, so every order is allocatable.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import httpx
from rich.console import Console
from yarl import URL

from ..client import check
from ..tmall import ADDRESSES, Line, signed_request, trade
from ..waits import wait_for_stock

console = Console()
MATERIALS_OF = {
    "SET-COFFEE-PRO": ["BEAN-YN-250", "BEAN-ETH-250", "BEAN-COL-250", "MACHINE-AUTO-01"],
    "BEAN-ETH-500": ["BEAN-ETH-500"],
}
TOPUP_NODES = ("WH-HZ", "WH-BJ")
WEBHOOK_PATH = "/channels/tmall/orders"


def iter_orders(n: int, tag: str, seed: int, first: int = 0) -> Iterator[dict]:
    """A realistic mix: mostly beans, some coffee sets, some both; four cities; some freight and discounts.
    Order i of the run has tid `4` + tag + i (ten digits) + `00`; `first` starts a phase's own range."""
    rnd = random.Random(seed)
    for i in range(first, first + n):
        kind = rnd.choices(["beans", "set", "both"], weights=[65, 20, 15])[0]
        lines = []
        if kind in ("set", "both"):
            lines.append(Line("SET-COFFEE-PRO", 1, Decimal("3099.00") - rnd.choice([0, 0, 50, 91])))
        if kind in ("beans", "both"):
            qty = rnd.choices([1, 2, 3], weights=[60, 25, 15])[0]
            lines.append(Line("BEAN-ETH-500", qty, Decimal("99.00") * qty - rnd.choice([0, 0, 5])))
        tid = f"4{tag}{i:010d}00"  # 19 digits; multi-line oids (tid[:-2] + NN) never collide across orders
        yield trade(
            lines,
            tid=tid,
            address=rnd.randrange(len(ADDRESSES)),
            post_fee_cents=rnd.choice([0, 0, 0, 1000, 1200]),
        )


def build_orders(n: int, tag: str, seed: int, first: int = 0) -> list[dict]:
    return list(iter_orders(n, tag, seed, first))


def tid_of(doc: dict) -> str:
    return doc["trade_fullinfo_get_response"]["trade"]["tid_str"]


def demand(docs: Iterable[dict]) -> Counter:
    need: Counter = Counter()
    for doc in docs:
        for o in doc["trade_fullinfo_get_response"]["trade"]["orders"]["order"]:
            for material in MATERIALS_OF[o["outer_iid"]]:
                need[material] += o["num"]
    return need


async def top_up(client: httpx.AsyncClient, tag: str, need: Counter, label: str = "") -> None:
    """Receive `need` at every top-up node (receipt id bench-<tag>[-<label>]-<node>) and wait until
    fulfillment sees it."""
    for node in TOPUP_NODES:
        receipt = {
            "receipt_id": f"bench-{tag}{'-' + label if label else ''}-{node}",
            "node_code": node,
            "note": f"bench run {tag} {label}".strip(),
            "lines": [{"material_code": m, "qty": q} for m, q in sorted(need.items())],
        }
        after = await post_setup(client, "/api/inventory/receipts", receipt)
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


async def post_setup(client: httpx.AsyncClient, path: str, body: dict, within: float = 90) -> Any:
    """POST a (idempotent) setup request; while the service is unavailable (a restart: 502/503/504 or no
    connection), try again for up to `within` seconds."""
    deadline = time.monotonic() + within
    while True:
        try:
            r = await client.post(path, json=body)
            if r.status_code not in (502, 503, 504) or time.monotonic() > deadline:
                return check(r, 200, 201)
            why = f"{r.status_code}"
        except httpx.TransportError as exc:
            if time.monotonic() > deadline:
                raise
            why = type(exc).__name__
        console.print(f"[yellow]{path}: {why}, the service is unavailable; trying again[/]")
        await asyncio.sleep(3)


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


# -- pre-built requests -----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Request:
    """One signed webhook delivery, ready to send: the absolute URL (query and `sign` encoded) and body."""

    tid: str
    url: URL
    body: bytes


@dataclass(frozen=True, slots=True)
class Record:
    """One Kafka record, ready to send."""

    tid: str
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]


def signed_pool(
    n: int, tag: str, seed: int, first: int, base_url: str, at: datetime
) -> tuple[list[Request], Counter]:
    """n webhook requests signed with the timestamp `at`, and their stock demand. The trades are built
    one at a time and dropped once signed: only the bytes stay in memory (~1.7 kB an order)."""
    base, need, out = base_url.rstrip("/") + WEBHOOK_PATH + "?", Counter(), []
    for doc in iter_orders(n, tag, seed, first):
        need.update(demand([doc]))
        params, body = signed_request(doc, now=at)
        out.append(Request(tid_of(doc), URL(base + urlencode(params), encoded=True), body))
    return out, need


def kafka_pool(
    n: int, tag: str, seed: int, first: int, received_at: datetime
) -> tuple[list[Record], Counter]:
    """n `channel.order.received` records as the Tmall adapter's own code normalises them (what a
    third-party channel adapter would publish straight onto omni.channel.orders), and their stock demand."""
    from omni_channel.domain.tmall import Accepted, normalise_trade
    from omni_contracts import make_envelope
    from omni_contracts.events.channel import channel_order_key

    need, out = Counter(), []
    for doc in iter_orders(n, tag, seed, first):
        outcome = normalise_trade(doc, shop_id="TM-OMNI-FLAGSHIP", received_at=received_at)
        if not isinstance(outcome, Accepted):
            raise ValueError(f"the Tmall adapter does not accept order {tid_of(doc)}: {outcome!r}")
        need.update(demand([doc]))
        key = channel_order_key("tmall", outcome.channel_order_id)
        env = make_envelope(outcome.event, producer="omni-bench", key=key)
        out.append(Record(outcome.channel_order_id, key.encode(), env.to_bytes(), env.headers()))
    return out, need
