"""`make demo`: three signed Tmall orders through the gateway, each followed from webhook to trial balance,
the order rules' three engines on the Tmall flagship (a hold and a gift: demo_rules.py; a merge, 合单:
demo_merge.py), a stock change at a store reaching the (simulated) Tmall platform, and an order from every
other platform (demo_channels.py).

Everything goes through the gateway, as a person (or the platform) would do it: the signed webhook, the
order's journey, the staff actions in the warehouse, the vouchers. A bad signature is refused. Then a receipt
at a store: inventory recomputes the listing, channel pushes it, the simulator shows the new quantity.
"""

from __future__ import annotations

import asyncio
import random
import time
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from .catalog import LISTINGS
from .client import GatewayError, check, gateway
from .demo_channels import channels_act
from .demo_merge import STRATEGY as MERGE_STRATEGY
from .demo_merge import WINDOW_S, merge_act, merge_tables
from .demo_rules import RULESET, rules_act, trace_table
from .seed import SIM_URL, seed_platform
from .tmall import Line, signed_request, trade

console = Console()
CARRIERS = {"WH-HZ": ("SF", "SF"), "WH-BJ": ("JD Logistics", "JDVA"), "STORE-SH-01": ("ZTO", "ZTO")}

# (title, lines, freight in cents, address index into tmall.ADDRESSES: 0 Hangzhou, 1 Shanghai, 2 Beijing)
SET, BEANS = Line("SET-COFFEE-PRO", 1, Decimal("3007.75")), Decimal("288.25")  # paid after discounts
ORDERS: list[tuple[str, list[Line], int, int]] = [
    (
        "The coffee set + 3 bags of beans to Hangzhou, ¥12 freight",
        [SET, Line("BEAN-ETH-500", 3, BEANS)],
        1200,
        0,
    ),
    ("2 bags of beans to Beijing", [Line("BEAN-ETH-500", 2)], 0, 2),
    ("A coffee machine (the set) to Shanghai", [Line("SET-COFFEE-PRO", 1)], 0, 1),
]


class DemoError(RuntimeError):
    pass


def yuan(cents: int) -> str:
    return f"¥{Decimal(cents) / 100:,.2f}"


def when(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


def hms(iso: str | None) -> str:
    return when(iso).astimezone().strftime("%H:%M:%S.%f")[:-3] if iso else ""


def ms(iso: str, since: datetime) -> str:
    return f"{(when(iso) - since).total_seconds() * 1000:.0f}"


async def poll(fetch, done, what: str, within: float = 30, interval: float = 0.2) -> Any:
    """Call `fetch` until `done(result)`; a DemoError that says what it last saw after `within` seconds."""
    deadline, last = time.monotonic() + within, None
    while time.monotonic() < deadline:
        last = await fetch()
        if last is not None and done(last):
            return last
        await asyncio.sleep(interval)
    raise DemoError(f"timed out after {within:.0f}s waiting for {what}; last seen: {str(last)[:300]}")


async def send(client: httpx.AsyncClient, doc: dict, **sign: Any) -> httpx.Response:
    params, body = signed_request(doc, **sign)
    return await client.post(
        "/channels/tmall/orders", params=params, content=body, headers={"content-type": "application/json"}
    )


async def get_order(client: httpx.AsyncClient, tid: str) -> dict | None:
    r = await client.get(f"/api/order/orders/by-channel/tmall/{tid}")
    return check(r) if r.status_code != 404 else None


async def get_tasks(client: httpx.AsyncClient, order_id: str) -> list[dict]:
    return check(await client.get("/api/fulfillment/tasks", params={"order_id": order_id}))["items"]


def journey(order: dict, tasks: list[dict]) -> Table:
    t = Table(title=f"order {order['order_id']} — {order['status']}", title_justify="left", expand=False)
    for col in ("at", "+ms", "from → to", "by", "reason"):
        t.add_column(col, style="cyan" if col == "at" else None, justify="right" if col == "+ms" else "left")
    received = order["trade"]["received_at"]
    nodes = sorted({a["node_code"] for ln in order["stock"]["lines"] for a in ln["allocations"]})
    rows = [(received, "webhook accepted", "channel", f"ships from [bold]{', '.join(nodes)}[/]")]
    for h in order["history"]:
        colour = "red" if h["to_status"] == "exception" else "green"
        step = f"{h['from_status'] or '·'} → [{colour}]{h['to_status']}[/]"
        rows.append((h["at"], step, h["source"], escape(h["reason"])))
    for k in tasks:
        goods = ", ".join(f"{ln['qty']}× {ln['material_code']}" for ln in k["lines"])
        rows.append((k["created_at"], f"[bold]task[/] {k['kind']} ({k['status']})", k["node_code"], goods))
    for at, *cells in sorted(rows, key=lambda row: when(row[0])):
        t.add_row(hms(at), ms(at, when(received)), *cells)
    return t


async def staff(client: httpx.AsyncClient, tasks: list[dict]) -> None:
    for task in tasks:
        tid, node = task["task_id"], task["node_code"]
        carrier, prefix = CARRIERS.get(node, ("SF", "SF"))
        tracking = f"{prefix}{random.randint(10**11, 10**12 - 1)}"
        staff_id = f"staff-{node.lower()}"
        check(await client.post(f"/api/fulfillment/tasks/{tid}/accept", json={"staff_id": staff_id}))
        if task.get("node_type") == "store":  # a store packs before it ships (a warehouse's WMS does its own)
            check(await client.post(f"/api/fulfillment/tasks/{tid}/pack", json={}))
        ship = {"carrier": carrier, "tracking_no": tracking}
        done = check(await client.post(f"/api/fulfillment/tasks/{tid}/ship", json=ship))
        console.print(
            f"  [bold]{staff_id}[/] accepted {tid}, shipped it with {done['carrier']} "
            f"{done['tracking_no']} → task [green]{done['status']}[/]"
        )


async def vouchers(client: httpx.AsyncClient, order_id: str, n_tasks: int) -> None:
    async def fetch() -> list[dict]:
        return check(await client.get(f"/api/finance/orders/{order_id}/vouchers"))["items"]

    try:
        items = await poll(fetch, lambda v: sum(x["kind"] == "revenue" for x in v) >= n_tasks, "", 60)
    except DemoError:
        items = await fetch()
        console.print(
            f"  [yellow]after 60s finance has not yet booked the revenue of {order_id}'s shipment "
            "(its shipments consumer is behind: see .data/services/logs/finance.log)[/]"
        )
    t = Table(title=f"vouchers of {order_id}", title_justify="left")
    for col in ("voucher", "account", "debit", "credit"):
        t.add_column(col, justify="right" if col in ("debit", "credit") else "left")
    for v in items:
        for i, ln in enumerate(v["lines"]):
            t.add_row(
                f"[bold]{v['kind']}[/] {v['voucher_id'][:8]}" if i == 0 else "",
                f"{ln['account_code']} {ln['account_name']}",
                yuan(ln["debit_cents"]) if ln["debit_cents"] else "",
                yuan(ln["credit_cents"]) if ln["credit_cents"] else "",
                end_section=i == len(v["lines"]) - 1,
            )
    console.print(t)
    tb = check(await client.get("/api/finance/trial-balance", params={"order_id": order_id}))
    mark = "[green]balanced ✓[/]" if tb["balanced"] else "[red]NOT balanced ✗[/]"
    console.print(
        f"  trial balance of {order_id}: debit {yuan(tb['total_debit_cents'])} = "
        f"credit {yuan(tb['total_credit_cents'])} → {mark}"
    )


def say(text: str, title: str = "", ok: bool = True) -> None:
    console.print(Panel(text, title=title, border_style="green" if ok else "red"))


async def one_order(client: httpx.AsyncClient, n: int, order: tuple[str, list[Line], int, int]) -> None:
    title, lines, freight, address = order
    console.rule(f"[bold]order {n}: {title}")
    doc = trade(lines, post_fee_cents=freight, address=address)
    tid = doc["trade_fullinfo_get_response"]["trade"]["tid_str"]
    r = await send(client, doc)
    say(
        f"POST /channels/tmall/orders (tid {tid}) → [bold]{r.status_code}[/] {r.text}",
        "webhook answer",
        r.status_code == 202,
    )
    check(r, 202)
    settled = ("allocated", "exception")
    o = await poll(lambda: get_order(client, tid), lambda o: o["status"] in settled, f"order {tid} allocated")
    tasks = await get_tasks(client, o["order_id"])
    console.print(journey(o, tasks))
    if o["status"] == "exception":
        raise DemoError(f"order {o['order_id']} went to exception: {o['status_reason']}")
    await staff(client, tasks)
    o = await poll(lambda: get_order(client, tid), lambda o: o["status"] == "completed", f"{tid} completed")
    for h in o["history"][-2:]:
        console.print(f"  → [green]{h['to_status']}[/] at {hms(h['at'])} {escape(h['reason'] or '')}")
    await vouchers(client, o["order_id"], len(tasks))


STOCK_LISTING = next(x for x in LISTINGS if x["listing_id"] == "L-TM-BEAN-ETH-500")
STORE, RECEIVED = "STORE-SH-01", 20


async def platform_qty(sim: httpx.AsyncClient, listing: dict) -> int:
    item = check(await sim.get(f"/_sim/taobao/items/{listing['channel_item_id']}"))
    if listing.get("channel_sku_id"):
        return next(s["quantity"] for s in item["skus"] if s["sku_id"] == int(listing["channel_sku_id"]))
    return item["num"]


async def explained(client: httpx.AsyncClient, listing_id: str) -> dict:
    return check(await client.get(f"/api/inventory/listings/{listing_id}/stock"))


async def settled(client: httpx.AsyncClient, sim: httpx.AsyncClient, listing: dict) -> int:
    """Wait until the platform shows what inventory says the listing may sell; that number."""

    async def fetch() -> tuple[int, int]:
        return (await explained(client, listing["listing_id"]))["quantity"], await platform_qty(sim, listing)

    return (await poll(fetch, lambda x: x[0] == x[1], "the platform to show the listing's number", 60))[0]


def steps_table(ex: dict) -> Table:
    t = Table(title=f"GET /api/inventory/listings/{ex['listing_id']}/stock → {ex['quantity']}",
              title_justify="left")  # fmt: skip
    for col in ("step", "value", "detail", "inputs"):
        t.add_column(col, justify="right" if col == "value" else "left")
    for st in ex["steps"]:
        inputs = ", ".join(f"{k} {v}" for k, v in st["inputs"].items())
        value = "" if st["value"] is None else f"{st['value']:,}"
        t.add_row(st["step"], value, escape(st["detail"]), escape(inputs[:120]))
    return t


async def stock_act(client: httpx.AsyncClient, sim_url: str) -> None:
    listing, lid = STOCK_LISTING, STOCK_LISTING["listing_id"]
    material = listing["sales_product_code"]
    console.rule(f"[bold]stock: {RECEIVED} × {material} received at the store {STORE} → Tmall")
    await seed_platform(client, sim_url)  # the simulator knows the shop and its items (idempotent)
    async with httpx.AsyncClient(base_url=sim_url, timeout=10) as sim:
        before = await settled(client, sim, listing)
        console.print(
            f"  the simulated Tmall shows item {listing['channel_item_id']} sku {listing['channel_sku_id']} "
            f"({lid}): [bold]{before:,}[/]"
        )
        receipt = {"receipt_id": f"demo-{random.randrange(10**12):012d}", "node_code": STORE,
                   "lines": [{"material_code": material, "qty": RECEIVED}],
                   "note": "make demo: stock act"}  # fmt: skip
        t0 = time.time()
        check(await client.post("/api/inventory/receipts", json=receipt), 200, 201)
        want = (await explained(client, lid))["quantity"]
        console.print(f"  POST /api/inventory/receipts {receipt['receipt_id']} at {STORE}: +{RECEIVED}; "
                      f"inventory now says the listing may sell [bold]{want:,}[/]")  # fmt: skip
        shown = await poll(
            lambda: platform_qty(sim, listing), lambda q: q == want, f"Tmall to show {want}", 30, 0.02
        )
        seen = time.time() - t0
        calls = check(await sim.get("/_sim/taobao/calls", params={"method": "taobao.item.quantity.update"}))
        hit = next((c for c in calls["calls"] if c["at"] >= t0 and c["outcome"] == "ok"
                    and c["params"].get("num_iid") == listing["channel_item_id"]
                    and c["params"].get("quantity") == str(want)), None)  # fmt: skip
        at = (
            f"; the platform received the push {(hit['at'] - t0) * 1000:,.0f} ms after the receipt"
            if hit
            else ""
        )
        say(f"the simulated Tmall shows [bold]{shown:,}[/] (was {before:,}) {seen * 1000:,.0f} ms after the "
            f"receipt was posted (polled){at}", "stock change reached the platform")  # fmt: skip
    console.print(steps_table(await explained(client, lid)))
    ps = check(await client.get(f"/api/channel/push-status/{lid}"))
    console.print(
        f"  push status of {lid}: [green]{ps['state']}[/], desired {ps['desired_qty']:,} "
        f"(seq {ps['desired_seq']}), pushed {ps['pushed_qty']:,} (seq {ps['pushed_seq']}), "
        f"platform says {ps['platform_qty']}, "
        f"acknowledged {hms(ps['acknowledged_at'])}, {ps['drifts']} drift(s)"
    )
    for h in ps["history"][:3]:
        console.print(
            f"    {hms(h['finished_at'])} {h['kind']} seq {h['seq']} qty {h['quantity']:,} → {h['outcome']}"
        )


async def rules_act_shown(client: httpx.AsyncClient) -> None:
    console.rule(
        f"[bold]the rules: rule set {RULESET} holds a buyer who asks for a call, gives buy-2-get-1 beans"
    )
    seen = await rules_act(client, poll)
    dry = seen["dry_run"]
    say(
        f"dry-run over the shop's last {dry['orders']} orders: would hold {dry['would_hold']}, "
        f"would gift {dry['would_gift']} (nothing changed)",
        "POST /api/order/rulesets/demo-review/dry-run",
    )
    held = seen["held"]
    say(
        f"order {held['order_id']} → [bold]{held['status']}[/]: {escape(held['status_reason'] or '')}", "held"
    )
    console.print(trace_table(seen["trace"]))
    gifts = ", ".join(f"{g['qty']} × {g['material_code']} (0 paid)" for g in seen["gifts"]) or "none"
    final = seen["final"]
    say(
        f"released by the operator → [bold]{final['status']}[/]; gift lines: {gifts}; the task carries "
        f"{', '.join(f'{q} × {m}' for m, q in seen['task_lines'])}",
        "POST /api/order/orders/{id}/release",
        final["status"] == "allocated",
    )
    if final["status"] != "allocated":
        raise DemoError(f"order {final['order_id']} did not reach allocated: {final['status_reason']}")


async def merge_act_shown(client: httpx.AsyncClient, sim_url: str) -> None:
    console.rule(
        f"[bold]the merge (合单): two Tmall trades of one buyer to one address, a {WINDOW_S}s window"
    )
    await seed_platform(client, sim_url)  # the simulator knows the shop, so the write-backs are accepted
    seen = await merge_act(client, sim_url, poll)
    for table in merge_tables(seen):
        console.print(table)
    m, n = seen["merged"], len(seen["tasks"])
    if any(w["state"] != "acknowledged" for w in seen["writebacks"]):
        raise DemoError(f"the shipment of merged order {m['order_id']} was not written back to every trade")
    parcels = "one parcel" if n == 1 else f"{n} parcels"
    say(
        f"{len(m['merge']['sources'])} trades ({', '.join(seen['tids'])}) merged into {m['order_id']}, "
        f"shipped as {parcels}, written back to each trade, a sale booked per trade; merge is off again "
        f"(strategy {MERGE_STRATEGY} v{seen['strategy_versions'][1]})",
        "merged, shipped once, booked per platform order",
    )


async def run_demo(url: str, api_key: str, sim_url: str = SIM_URL) -> None:
    say(
        f"Omni demo through the gateway at [bold]{url}[/]: 3 Tmall orders, from the signed webhook to the "
        "trial balance, a forged one, a hold, a gift and a merge, and a stock change at a store reaching the "
        "simulated Tmall"
    )
    try:
        async with gateway(url, api_key) as client:
            ready = await client.get("/health/ready")
            if ready.status_code != 200:
                raise DemoError(f"the gateway at {url} is not ready ({ready.status_code} {ready.text[:200]})")
            for n, order in enumerate(ORDERS, 1):
                await one_order(client, n, order)
            console.rule("[bold]a forged order: signed with the wrong secret")
            r = await send(client, trade([Line("BEAN-ETH-500", 1)]), secret="not-the-shop-secret")
            say(
                f"→ [bold]{r.status_code}[/] {r.text}",
                "refused" if r.status_code == 401 else "NOT refused",
                r.status_code == 401,
            )
            await rules_act_shown(client)
            await merge_act_shown(client, sim_url)
            await stock_act(client, sim_url)
            console.rule(
                "[bold]every channel: JD, Pinduoduo, Douyin, Xiaohongshu and Youzan, pushed and pulled"
            )
            console.print(await channels_act(client, sim_url, poll))
    except (DemoError, GatewayError) as exc:
        say(str(exc), "demo failed", ok=False)
        raise SystemExit(1) from None
    except httpx.TransportError as exc:
        say(
            f"cannot reach the gateway at {url} or the simulator at {sim_url} ({exc!r}): `make up`?",
            "demo failed",
            ok=False,
        )
        raise SystemExit(1) from None
    say(
        "3 orders received, allocated, shipped, completed and booked; a forged one refused; an order held "
        "by the demo rule set, gifted and released; two trades of one buyer merged, shipped once, written "
        "back to both and booked per trade; a receipt at a store pushed to Tmall; an order from "
        "each of JD, Pinduoduo, Douyin, Xiaohongshu and Youzan allocated (JD and Pinduoduo pulled too)."
    )
