"""`make demo`'s channels act: an order from each platform beside Tmall, each the platform's own way, to
`allocated` in the order service.

- JD, Pinduoduo, Douyin, Xiaohongshu and Youzan each push a signed order webhook. The signature is the
  platform's own (docs/platforms/*.md).
- JD and Pinduoduo orders are also pulled: the simulator holds a new order, and the channel service's durable
  sync finds it by modified time.

Each platform gets a demo shop, with the same keys on the simulator, and a listing per sample SKU.
Everything goes through the gateway.
"""

from __future__ import annotations

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
        paid = o["money"]["paid_cents"]
        table.add_row(
            NAMES[platform], oid, how, o["status"], f"¥{paid // 100}.{paid % 100:02d}", ", ".join(nodes)
        )
    return table
