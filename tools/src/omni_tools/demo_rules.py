"""`make demo`'s rules act: the demo rule set on the Tmall flagship, through the gateway.

1. A rule set (`demo-review`) and a strategy (`demo-tmall`) are saved (a new version each run): a buyer who
   asks to be called is held for an operator; buy 2 bags of Ethiopia 500 g, get a bag of Colombia 250 g
   (at most 3 per buyer; Yunnan 250 g when Colombia is out); a big order is tagged and sourced first.
2. An order of 4 bags with "please call me" is held (the trace says which rule and why) with 2 gift bags on
   it; the operator releases it and it goes on to allocated, the gift on the task with the beans.
3. A dry-run over the shop's last orders (this one among them) says what the rule set would change, and
   changes nothing.
4. The strategy is disabled at the end (a new version; its history stays), so the shop is as it was.
The third engine, merging (合单), is the next act: demo_merge.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from rich.table import Table

from .client import check
from .tmall import Line, signed_request, trade

SHOP = "tmall:TM-OMNI-FLAGSHIP"
RULESET, STRATEGY = "demo-review", "demo-tmall"
BEANS, GIFT, SUBSTITUTE = "BEAN-ETH-500", "BEAN-COL-250", "BEAN-YN-250"

RULES: dict[str, Any] = {
    "name": "demo review, gifts and priority",
    "description": "make demo's rule set (tools/src/omni_tools/demo_rules.py)",
    "rules": [
        {
            "id": "call-first", "name": "the buyer asks to be called",
            "when": {"type": "message", "field": "buyer", "contains": ["call me", "电话"]},
            "then": [{"type": "hold", "code": "buyer_message", "reason": "the buyer asks for a call first"}],
        },
        {
            "id": "beans-2-get-1", "name": "buy 2 Ethiopia 500 g, get a Colombia 250 g",
            "when": {"type": "sku", "match": "any", "codes": [BEANS]},
            "then": [{"type": "add_gift", "gift_id": "demo-colombia-250", "material_code": GIFT,
                      "per_units": 2, "for_skus": [BEANS], "substitutes": [SUBSTITUTE],
                      "caps": {"per_buyer": 3, "total": 10000}}],
        },
        {
            "id": "big-order", "name": "an order of 2000 yuan or more",
            "when": {"type": "paid_amount", "min": 200_000},
            "then": [{"type": "tag", "tags": ["big"]}, {"type": "priority", "value": 10}],
        },
    ],
}  # fmt: skip
STRATEGY_DOC: dict[str, Any] = {
    "name": "demo: the Tmall flagship",
    "match": {"channels": ["tmall"], "shops": [SHOP]},
    "ruleset_id": RULESET,
    "priority": 100,
}

Poll = Callable[..., Awaitable[Any]]


async def _order(client: httpx.AsyncClient, tid: str) -> dict | None:
    r = await client.get(f"/api/order/orders/by-channel/tmall/{tid}")
    return r.json() if r.status_code == 200 else None


def trace_table(trace: dict) -> Table:
    t = Table(title=f"decision trace of order {trace['order_id']}", show_lines=False)
    for col in ("stage", "subject", "matched", "why", "effect"):
        t.add_column(col, overflow="fold")
    for d in trace["decisions"]:
        t.add_row(d["stage"], d["subject"], "yes" if d["matched"] else "no", d["why"], d["effect"])
    return t


async def rules_act(client: httpx.AsyncClient, poll: Poll) -> dict[str, Any]:
    """Run the act; returns what it saw (for the caller to print or a test to check)."""
    check(await client.put(f"/api/order/rulesets/{RULESET}", json=RULES, params={"comment": "make demo"}))
    check(await client.put(f"/api/order/strategies/{STRATEGY}", json=STRATEGY_DOC))
    try:
        doc = trade([Line(BEANS, 4)], address=1)
        t = doc["trade_fullinfo_get_response"]["trade"]
        buyer = f"demo-{uuid.uuid4().hex[:8]}"
        t.update(buyer_message="please call me before shipping", buyer_open_uid=buyer, buyer_nick=buyer)
        params, body = signed_request(doc)
        r = await client.post("/channels/tmall/orders", params=params, content=body,
                              headers={"content-type": "application/json"})  # fmt: skip
        check(r, 202)
        tid = t["tid_str"]
        held = await poll(lambda: _order(client, tid), lambda o: o["status"] != "received", f"{tid} reviewed")
        trace = check(await client.get(f"/api/order/orders/{held['order_id']}/trace"))
        released = check(
            await client.post(
                f"/api/order/orders/{held['order_id']}/release",
                json={"reason": "called the buyer: ship as ordered"},
            )
        )
        done = await poll(
            lambda: _order(client, tid), lambda o: o["status"] in ("allocated", "exception", "backorder"),
            f"{tid} allocated after its release",
        )  # fmt: skip
        tasks = check(await client.get("/api/fulfillment/tasks", params={"order_id": done["order_id"]}))
        dry = check(await client.post(f"/api/order/rulesets/{RULESET}/dry-run", json={"last": 20}))
        after = await _order(client, tid)
    finally:
        check(await client.put(f"/api/order/strategies/{STRATEGY}", json={**STRATEGY_DOC, "enabled": False}))
    return {
        "dry_run": dry,
        "after_dry_run": after,
        "held": held,
        "trace": trace,
        "released": released,
        "final": done,
        "gifts": [x for x in done["goods"]["lines"] if x.get("gift_id")],
        "task_lines": sorted((x["material_code"], x["qty"]) for k in tasks["items"] for x in k["lines"]),
    }
