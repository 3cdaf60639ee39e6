"""`make demo`'s channels act: an order from each platform beside Tmall, each the platform's own way, to
`allocated` in the order service.

- JD, Pinduoduo, Douyin, Xiaohongshu and Youzan each push a signed order webhook. The signature is the
  platform's own (docs/platforms/*.md).
- JD and Pinduoduo orders are also pulled: the simulator holds a new order, and the channel service's durable
  sync finds it by modified time.
- A store's till (Odoo POS) sells two bags of beans at STORE-SH-01: the store's stock goes down and finance
  books the sale at once, with no order and no fulfillment task.

Each platform gets a demo shop, with the same keys on the simulator, and a listing per sample SKU.
Everything goes through the gateway.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from pathlib import Path
from typing import Any

import httpx
from rich.table import Table

import omni_channel

from .client import check
from .platform_orders import PLATFORMS, sample_order, signed_order

FIXTURES = Path(omni_channel.__file__).resolve().parents[2] / "tests" / "fixtures"
APP_KEY, SECRET, SESSION = "demo-platform-app", "demo-platform-secret-0123", "demo-platform-session"
SKUS = ("SET-COFFEE-PRO", "BEAN-ETH-500")  # the samples' merchant codes: seeded sales products
PULLED = ("jd", "pdd")
NAMES = {"jd": "JD", "pdd": "Pinduoduo", "douyin": "Douyin", "xiaohongshu": "Xiaohongshu", "youzan": "Youzan"}


def shop_id_of(platform: str) -> str:
    return "91000001" if platform == "youzan" else f"DEMO-{platform.upper()}"  # Youzan: a numeric kdt_id


async def connect(client: httpx.AsyncClient, sim: httpx.AsyncClient, platform: str) -> str:
    """The platform's demo shop (Omni and the simulator hold the same keys) and its listings."""
    shop_id = shop_id_of(platform)
    body = {"name": f"demo {NAMES[platform]}", "app_key": APP_KEY, "secret": SECRET, "session_key": SESSION}
    check(await client.put(f"/api/channel/shops/{platform}/{shop_id}", json=body))
    if platform in PULLED:
        keys = {"shop_id": shop_id, "app_key": APP_KEY, "secret": SECRET, "session": SESSION}
        check(await sim.put(f"/_sim/{platform}/shops", json=keys))
    for code in SKUS:
        listing_id = f"L-DEMO-{platform.upper()}-{code}"
        listing = {"listing_id": listing_id, "channel": platform, "shop_id": shop_id,
                   "channel_item_id": f"demo-{code}", "outer_id": code, "sales_product_code": code,
                   "price_cents": 1000}  # fmt: skip
        check(await client.put(f"/api/product/channel-listings/{listing_id}", json=listing))
    return shop_id


async def push(client: httpx.AsyncClient, platform: str, shop_id: str) -> tuple[str, int]:
    """The platform's sample order, signed its way, to its webhook; (its order id, the answer's status)."""
    doc, oid = sample_order(FIXTURES, platform)
    query, body = signed_order(platform, shop_id, doc, APP_KEY, SECRET)
    r = await client.post(f"/api/channel/channels/{platform}/orders", params=query, content=body,
                          headers={"content-type": "application/json"})  # fmt: skip
    check(r, 202)
    return oid, r.status_code


async def pull(client: httpx.AsyncClient, sim: httpx.AsyncClient, platform: str, shop_id: str) -> str:
    """A new order on the simulator, found by the shop's sync (run now rather than at its next interval)."""
    made = check(await sim.post(f"/_sim/{platform}/orders/generate", json={"shop_id": shop_id, "count": 1}))
    check(await client.post(f"/api/channel/pull-cursors/{platform}/{shop_id}/run"), 202)
    return str(made["first"])


POS_SHOP, POS_SECRET, STORE, BEANS, TILL_ID = (
    "DEMO-POS",
    "demo-till-secret-0123",
    "STORE-SH-01",
    "BEAN-ETH-500",
    501,
)


async def till_sale(client: httpx.AsyncClient, poll: Any) -> tuple[str, str, int, str]:
    """Two bags of beans sold at the store's till, paid by WeChat: (sale uid, what it did, paid fen, node)."""
    shop = {"name": "demo till", "app_key": "odoo", "secret": POS_SECRET}
    check(await client.put(f"/api/channel/shops/pos/{POS_SHOP}", json=shop))
    listing = {"listing_id": f"L-DEMO-POS-{BEANS}", "channel": "pos", "shop_id": POS_SHOP,
               "channel_item_id": str(TILL_ID), "outer_id": BEANS, "sales_product_code": BEANS,
               "price_cents": 9900}  # fmt: skip
    check(await client.put(f"/api/product/channel-listings/{listing['listing_id']}", json=listing))
    config = {"node_code": STORE, "payment_methods": {"payment_method_id:2": "wechat"}}
    check(await client.put(f"/api/channel/channels/pos/stores/{POS_SHOP}", json=config))
    uid = f"00042-001-{uuid.uuid4().hex[:12]}"
    delivery = {
        "receipt_id": f"demo-till-{uid}",
        "node_code": STORE,
        "lines": [{"material_code": BEANS, "qty": 2}],
    }
    check(
        await client.post("/api/inventory/receipts", json=delivery)
    )  # two bags delivered to the store first
    line = {"id": 1, "product_id": TILL_ID, "full_product_name": f"[{BEANS}] beans", "qty": 2,
            "price_unit": 99.0, "discount": 0, "price_subtotal_incl": 198.0,
            "tax_ids": [[6, False, [3]]]}  # fmt: skip
    sale = {"id": uid, "to_invoice": False, "data": {
        "name": f"Order {uid}", "uid": uid, "pos_session_id": 42, "date_order": "2026-12-03 02:15:30",
        "amount_total": 198.0, "amount_tax": 22.78, "amount_paid": 198.0, "amount_return": 0.0,
        "lines": [[0, 0, line]],
        "statement_ids": [[0, 0, {"name": "2026-12-03 02:16:02", "payment_method_id": 2, "amount": 198.0}]],
    }}  # fmt: skip
    body = json.dumps([sale]).encode()
    signature = hmac.new(POS_SECRET.encode(), body, hashlib.sha256).hexdigest()
    headers = {"X-Pos-Shop": POS_SHOP, "X-Pos-Signature": signature, "content-type": "application/json"}
    ref = f"pos:{POS_SHOP}:{uid}"

    async def sent() -> httpx.Response | None:  # the channel learns the till's products from product's events
        r = await client.post("/channels/pos/orders", content=body, headers=headers)
        return None if r.status_code == 422 and "no on-sale pos listing" in r.text else r

    check(await poll(sent, bool, "the till's products known to the channel"))

    async def booked() -> list[dict[str, Any]] | None:
        r = await client.get("/api/finance/vouchers", params={"order_id": ref})
        return check(r)["items"] or None

    async def taken() -> str | None:  # its ledger movement, or the line the store's stock fell short of
        r = await client.get("/api/inventory/movements", params={"reference": ref, "node_code": STORE})
        for m in check(r)["items"]:
            return f"{m['material_code']} {m['delta_on_hand']:+d} (on hand now {m['on_hand_after']})"
        r = await client.get("/api/inventory/store-sales/short-lines", params={"node_code": STORE})
        for x in check(r)["items"]:
            if x["document"] == ref:
                return f"{x['material_code']} {x['booked']} of {x['qty']} booked: count the store"
        return None

    await poll(booked, bool, f"the till sale {uid} booked")
    moved = await poll(taken, bool, f"the till sale {uid} taken from {STORE}'s stock")
    return (
        uid,
        f"till sale: {STORE} {moved}, voucher booked",
        19800,
        STORE,
    )


async def order_of(client: httpx.AsyncClient, platform: str, oid: str) -> dict[str, Any] | None:
    r = await client.get(f"/api/order/orders/by-channel/{platform}/{oid}")
    return check(r) if r.status_code != 404 else None


async def channels_act(client: httpx.AsyncClient, sim_url: str, poll: Any) -> Table:
    """Every platform's order to `allocated`; the table of what arrived how. `poll(fetch, done, what)` is
    the demo's wait."""
    rows: list[tuple[str, str, str]] = []
    async with httpx.AsyncClient(base_url=sim_url, timeout=httpx.Timeout(10, connect=3)) as sim:
        for platform in PLATFORMS:
            shop_id = await connect(client, sim, platform)
            for code in SKUS:  # an order before the order service knows its listings is held unknown_listing
                listing = f"/api/order/catalog/listings/L-DEMO-{platform.upper()}-{code}"
                await poll(
                    lambda u=listing: client.get(u), lambda r: r.status_code == 200, f"{listing} known"
                )
            oid, _ = await push(client, platform, shop_id)
            rows.append((platform, oid, "pushed: signed webhook"))
            if platform in PULLED:
                rows.append((platform, await pull(client, sim, platform, shop_id), "pulled: order search"))
    table = Table(title="orders from every platform", show_lines=False)
    for col in ("platform", "order id", "how it arrived", "status", "paid", "node"):
        table.add_column(col)
    for platform, oid, how in rows:
        o = await poll(
            lambda p=platform, i=oid: order_of(client, p, i),
            lambda o: o["status"] in ("allocated", "exception"),
            f"{platform} order {oid} allocated",
        )
        nodes = sorted({a["node_code"] for ln in o["stock"]["lines"] for a in ln["allocations"]})
        table.add_row(
            NAMES[platform], oid, how, o["status"], yuan(o["money"]["paid_cents"]), ", ".join(nodes)
        )
    uid, what, paid, node = await till_sale(client, poll)
    table.add_row("POS (Odoo)", uid, what, "booked", yuan(paid), node)
    return table


def yuan(fen: int) -> str:
    return f"¥{fen // 100}.{fen % 100:02d}"
