"""The rules phase: the same Kafka order load twice in one run, with no strategy of the bench's (the
baseline) and with the 50-rule strategy active on the bench's shop (rules50.py); orders/s to `allocated`
of each and their ratio. The bench's strategy is disabled again afterwards (`enabled: false`), whatever
happened. Enabled strategies of others that match the bench's shop are named: then the baseline is not
"none", and the table says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from rich.console import Console

from ..client import check
from .orders import kafka_pool, top_up
from .push import publish
from .rules50 import RULESET_ID, STRATEGY_ID, ruleset_doc, strategy_doc
from .stats import ratio
from .watch import Flow, connect, follow

console = Console()
CHANNEL, SHOP_ID = "tmall", "TM-OMNI-FLAGSHIP"  # where kafka_pool's orders come from
FIRST = {"none": 3_000_000_000, "rules50": 4_000_000_000}  # each half's own tids (run.FIRST's ranges below)


@dataclass
class RulesRun:
    n: int  # orders in each half
    without: Flow | None = None
    with_rules: Flow | None = None
    applied: int = 0  # orders of the 50-rule half that the bench's strategy reviewed
    held: int = 0  # orders of the 50-rule half that are held (the rules should hold none)
    others: list[str] = field(default_factory=list)  # other enabled strategies matching the shop

    @property
    def ratio(self) -> float | None:
        """orders/s with the 50 rules ÷ orders/s without."""
        if self.without is None or self.with_rules is None:
            return None
        return ratio(self.with_rules.to_allocated, self.without.to_allocated)


def matches_shop(doc: dict[str, Any], channel: str = CHANNEL, shop_id: str = SHOP_ID) -> bool:
    """An enabled strategy document that would consider the bench's orders (B2C, as Tmall sends them)."""
    m = doc.get("match") or {}
    return bool(
        doc.get("enabled", True)
        and (not m.get("channels") or channel in m["channels"])
        and (not m.get("shops") or f"{channel}:{shop_id}" in m["shops"])
        and (not m.get("business_models") or "B2C" in m["business_models"])
    )


async def other_strategies(client: httpx.AsyncClient) -> list[str]:
    out, offset = [], 0
    while True:
        page = check(await client.get("/api/order/strategies", params={"limit": 200, "offset": offset}))
        out += [
            f"{s['id']} v{s['version']}"
            for s in page["items"]
            if s["id"] != STRATEGY_ID and matches_shop(s["doc"])
        ]
        offset += len(page["items"])
        if not page["items"] or offset >= page["total"]:
            return out


async def put_strategy(client: httpx.AsyncClient, tag: str, *, enabled: bool) -> None:
    body = strategy_doc(CHANNEL, SHOP_ID, enabled=enabled)
    comment = f"omni bench run {tag}: {'on' if enabled else 'off'}"
    check(await client.put(f"/api/order/strategies/{STRATEGY_ID}", json=body, params={"comment": comment}))


async def _half(client: httpx.AsyncClient, tag: str, n: int, which: str, bootstrap: str) -> Flow:
    from omni_contracts import Topic

    seed = int(tag) + 7  # the same seed for both halves: the same mix of trades, their own tids
    records, need = kafka_pool(n, tag, seed, FIRST[which], datetime.now(UTC))
    await top_up(client, tag, need, f"rules-{which}")
    pushed = await publish(records, Topic.CHANNEL_ORDERS, bootstrap)
    del records
    console.print(f"  {which}: {len(pushed.tids):,} published in {pushed.seconds:,.1f} s; following them …")
    return await follow(pushed, since=pushed.started_at)


async def _reviewed(tids: list[str]) -> tuple[int, int]:
    """(orders the bench's strategy reviewed, orders held) among `tids`, from the order service's store."""
    db = await connect("order")
    try:
        row = await db.fetchrow(
            "SELECT count(*) FILTER (WHERE strategy LIKE $2) AS applied,"
            "       count(*) FILTER (WHERE status = 'held') AS held"
            "  FROM orders WHERE channel = $3 AND channel_order_id = ANY($1::text[])",
            tids,
            f"{STRATEGY_ID} v%",
            CHANNEL,
        )
    finally:
        await db.close()
    return row["applied"], row["held"]


async def run_rules(client: httpx.AsyncClient, tag: str, n: int, bootstrap: str) -> RulesRun:
    out = RulesRun(n)
    check(
        await client.put(
            f"/api/order/rulesets/{RULESET_ID}",
            json=ruleset_doc(CHANNEL, SHOP_ID),
            params={"comment": f"omni bench run {tag}"},
        )
    )
    existing = await client.get(f"/api/order/strategies/{STRATEGY_ID}")
    if existing.status_code == 200 and existing.json()["doc"].get("enabled", True):
        await put_strategy(client, tag, enabled=False)  # left on by an interrupted run
    out.others = await other_strategies(client)
    if out.others:
        console.print(f"[yellow]other strategies match the bench's shop: {', '.join(out.others)}[/]")
    try:
        out.without = await _half(client, tag, n, "none", bootstrap)
        await put_strategy(client, tag, enabled=True)
        console.print(f"  strategy {STRATEGY_ID} on (rule set {RULESET_ID}, 50 rules)")
        out.with_rules = await _half(client, tag, n, "rules50", bootstrap)
        out.applied, out.held = await _reviewed(out.with_rules.pushed.tids)
    finally:
        await put_strategy(client, tag, enabled=False)
        console.print(f"  strategy {STRATEGY_ID} off again")
    return out
