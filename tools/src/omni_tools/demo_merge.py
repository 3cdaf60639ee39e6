"""`make demo`'s merge act (合单): two Tmall trades of one buyer to one address leave as one parcel.

1. A strategy (`demo-tmall-merge`, a new version each run) on the Tmall flagship turns merge on: each order
   waits `merge_window` for WINDOW_S seconds after Omni received it, for the same buyer's other orders.
2. Two signed trades of a buyer new to the run (its buyer_open_uid, so nothing else merges with them), both
   to one Hangzhou address: 2 bags of beans, then the coffee set. When the window closes the order service
   merges them into ONE new order (kind `merged`; both trades go to `merged`, `merged_into` it; its trace
   says "merged from …").
3. The merged order is sourced as one parcel: the warehouse accepts and ships its one task.
4. The channel writes that waybill back to BOTH platform orders (the simulated Tmall shows each trade shipped
   with it); finance books a sale per platform order, under each trade's own order id (the merged order has
   no voucher of its own).
5. The strategy is disabled at the end (a new version; its history stays), so the shop is as it was.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import httpx
from rich.markup import escape
from rich.table import Table

from .client import check
from .demo_rules import trace_table
from .tmall import Line, signed_request, trade

SHOP = "tmall:TM-OMNI-FLAGSHIP"
STRATEGY, WINDOW_S = "demo-tmall-merge", 3
STRATEGY_DOC: dict[str, Any] = {
    "name": "demo: the Tmall flagship merges a buyer's orders",
    "match": {"channels": ["tmall"], "shops": [SHOP]},
    "priority": 110,
    "merge": {"enabled": True, "window_s": WINDOW_S},
}
# (what the buyer ordered, lines, freight in fen): both to tmall.ADDRESSES[0], Hangzhou (WH-HZ has it all)
TRADES: list[tuple[str, list[Line], int]] = [
    ("2 bags of beans", [Line("BEAN-ETH-500", 2)], 1200),
    ("the coffee set", [Line("SET-COFFEE-PRO", 1)], 0),
]
CARRIER, STAFF = "SF", "staff-wh-hz"
FINAL_WRITEBACK = {"acknowledged", "refused", "credentials", "unsupported"}

Poll = Callable[..., Awaitable[Any]]


def yuan(cents: int) -> str:
    return f"¥{Decimal(cents) / 100:,.2f}"


async def _by_tid(client: httpx.AsyncClient, tid: str) -> dict | None:
    r = await client.get(f"/api/order/orders/by-channel/tmall/{tid}")
    return r.json() if r.status_code == 200 else None


async def _order(client: httpx.AsyncClient, order_id: str) -> dict | None:
    r = await client.get(f"/api/order/orders/{order_id}")
    return r.json() if r.status_code == 200 else None


async def _send(client: httpx.AsyncClient, doc: dict) -> None:
    params, body = signed_request(doc)
    r = await client.post("/channels/tmall/orders", params=params, content=body,
                          headers={"content-type": "application/json"})  # fmt: skip
    check(r, 202)


async def _ship(client: httpx.AsyncClient, task: dict) -> dict:
    url = f"/api/fulfillment/tasks/{task['task_id']}"
    check(await client.post(f"{url}/accept", json={"staff_id": STAFF}))
    waybill = f"SF{random.randint(10**11, 10**12 - 1)}"
    return check(await client.post(f"{url}/ship", json={"carrier": CARRIER, "tracking_no": waybill}))


async def merge_act(client: httpx.AsyncClient, sim_url: str, poll: Poll) -> dict[str, Any]:
    """Run the act; returns what it saw (for the caller to print or a test to check)."""
    on = check(await client.put(f"/api/order/strategies/{STRATEGY}", json=STRATEGY_DOC,
                                params={"comment": "make demo: merge on"}))  # fmt: skip
    try:
        buyer = f"demo-merge-{uuid.uuid4().hex[:10]}"
        tids = []
        for _, lines, freight in TRADES:
            doc = trade(lines, post_fee_cents=freight, address=0)
            t = doc["trade_fullinfo_get_response"]["trade"]
            t.update(buyer_open_uid=buyer, buyer_nick=buyer)
            await _send(client, doc)
            tids.append(t["tid_str"])

        async def both_merged() -> list[dict] | None:
            """Both trades `merged`, into one and the same order."""
            found = [await _by_tid(client, tid) for tid in tids]
            if not all(o and o["status"] == "merged" for o in found):
                return None
            return found if len({o["merge"]["merged_into"] for o in found}) == 1 else None

        sources = await poll(both_merged, bool, f"trades {', '.join(tids)} merged into one order",
                             within=60 + WINDOW_S)  # fmt: skip
        m_id = sources[0]["merge"]["merged_into"]
        trace = check(await client.get(f"/api/order/orders/{m_id}/trace"))
        allocated = await poll(lambda: _order(client, m_id), lambda o: o["status"] == "allocated",
                               f"merged order {m_id} allocated")  # fmt: skip

        async def tasks() -> list[dict]:
            return check(await client.get("/api/fulfillment/tasks", params={"order_id": m_id}))["items"]

        found = await poll(tasks, bool, f"the tasks of {m_id}")
        shipped = [await _ship(client, task) for task in found]
        done = await poll(lambda: _order(client, m_id), lambda o: o["status"] == "completed",
                          f"merged order {m_id} completed")  # fmt: skip

        async def writebacks() -> list[dict] | None:
            r = await client.get("/api/channel/shipment-writebacks", params={"order_id": m_id})
            items = check(r)["items"]
            final = len(items) == len(tids) * len(shipped) and all(
                w["state"] in FINAL_WRITEBACK for w in items
            )
            return items if final else None

        wbs = await poll(writebacks, bool, f"the write-backs of {m_id} to Tmall", within=60)
        async with httpx.AsyncClient(base_url=sim_url, timeout=10) as sim:
            on_platform = {
                tid: check(await sim.get("/_sim/taobao/shipments", params={"tid": tid}))["shipments"]
                for tid in tids
            }

        async def booked(order_id: str) -> list[dict] | None:
            items = check(await client.get(f"/api/finance/orders/{order_id}/vouchers"))["items"]
            return items if {v["kind"] for v in items} >= {"sale", "revenue"} else None

        vouchers = {}
        for s in done["merge"]["sources"]:
            sid = s["order_id"]
            vouchers[sid] = await poll(lambda sid=sid: booked(sid), bool, f"the sale of {sid}", within=60)
        m_vouchers = check(await client.get(f"/api/finance/orders/{m_id}/vouchers"))["items"]
        sources = [await _by_tid(client, tid) for tid in tids]
    finally:
        off_doc, comment = {**STRATEGY_DOC, "enabled": False}, {"comment": "make demo: merge off again"}
        off = check(await client.put(f"/api/order/strategies/{STRATEGY}", json=off_doc, params=comment))
    return {
        "tids": tids,
        "strategy_versions": (on["version"], off["version"]),
        "sources": sources,
        "allocated": allocated,
        "merged": done,
        "trace": trace,
        "merge_trace": [d for d in trace["decisions"] if d["stage"] == "merge"],
        "tasks": shipped,
        "writebacks": wbs,
        "on_platform": on_platform,
        "vouchers": vouchers,
        "merged_vouchers": m_vouchers,
        "strategy_enabled_after": off["doc"]["enabled"],
    }


def merged_table(seen: dict[str, Any]) -> Table:
    m = seen["merged"]
    nodes = sorted({a["node_code"] for ln in m["stock"]["lines"] for a in ln["allocations"]})
    t = Table(title=f"merged order {m['order_id']} ({m['merge']['kind']}) — {m['status']}, one parcel from "
              f"{', '.join(nodes)}", title_justify="left")  # fmt: skip
    for col in ("order", "Tmall trade", "lines", "paid", "status", "merged into"):
        t.add_column(col, justify="right" if col == "paid" else "left", overflow="fold")

    def goods(lines: list[dict]) -> str:
        return ", ".join(f"{x['qty']}× {x['material_code']}" for x in lines)

    by_id = {s["order_id"]: s for s in seen["sources"]}
    for src in m["merge"]["sources"]:
        s = by_id.get(src["order_id"], {})
        lines = [x for x in m["goods"]["lines"] if x.get("source_order_id") == src["order_id"]]
        t.add_row(src["order_id"], src["channel_order_id"], goods(lines), yuan(src["paid_cents"]),
                  s.get("status", "?"), (s.get("merge") or {}).get("merged_into") or "")  # fmt: skip
    paid, status = yuan(m["money"]["paid_cents"]), m["status"]
    t.add_row(f"[bold]{m['order_id']}[/]", m["trade"]["channel_order_id"], goods(m["goods"]["lines"]),
              f"[bold]{paid}[/]", f"[bold]{status}[/]", "", end_section=True)  # fmt: skip
    return t


def shipped_table(seen: dict[str, Any]) -> Table:
    t = Table(title=f"the shipment of {seen['merged']['order_id']} written back to each Tmall trade",
              title_justify="left")  # fmt: skip
    for col in ("source order", "Tmall trade", "waybill", "write-back", "the simulated Tmall shows"):
        t.add_column(col, overflow="fold")
    for w in sorted(seen["writebacks"], key=lambda w: w["channel_order_id"] or ""):
        shown = seen["on_platform"].get(w["channel_order_id"]) or []
        on_sim = "; ".join(f"{x['status']} {x['company_code']} {x['out_sid']}" for x in shown) or "nothing"
        colour = "green" if w["state"] == "acknowledged" else "red"
        state = f"[{colour}]{w['state']}[/]" + (f" {escape(w['last_error'])}" if w["last_error"] else "")
        waybill = f"{w['carrier']} {w['tracking_no']}"
        t.add_row(w["source_order_id"] or "", w["channel_order_id"] or "", waybill, state, on_sim)
    return t


def sales_table(seen: dict[str, Any]) -> Table:
    t = Table(title="finance: a sale per platform order (the merged order books none)", title_justify="left")
    for col in ("source order", "voucher", "total", "summary"):
        t.add_column(col, justify="right" if col == "total" else "left", overflow="fold")
    for sid, items in seen["vouchers"].items():
        for i, v in enumerate(items):
            name, total = f"{v['kind']} {str(v['voucher_id'])[:8]}", yuan(v["total_cents"])
            last = i == len(items) - 1
            t.add_row(sid if i == 0 else "", name, total, escape(v["summary"]), end_section=last)
    return t


def merge_tables(seen: dict[str, Any]) -> list[Table]:
    """What the act saw, as the demo prints it: the merged order and its sources, its trace's merge
    entries, the write-back to each platform order, the sales per source."""
    trace = trace_table({"order_id": seen["merged"]["order_id"], "decisions": seen["merge_trace"]})
    return [merged_table(seen), trace, shipped_table(seen), sales_table(seen)]
