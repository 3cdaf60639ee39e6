"""What the end-to-end tests do through the gateway, as a person or a platform would."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx

from omni_tools.tmall import Line, signed_request, trade
from omni_tools.waits import wait_for_listing, wait_for_stock

SHOP = "TM-OMNI-FLAGSHIP"
SIM_SESSION = "e2e-session-token"  # the seller's TOP session, the same on the simulator and in channel
TERMINAL = {"allocated", "exception", "cancelled", "completed"}


async def until(check, what: str, timeout: float = 60, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}; last: {last!r}")


async def demo_poll(fetch, done, what: str, within: float = 120) -> Any:
    """The `poll` the demo's acts take (omni_tools.demo): `fetch()` until `done(found)`, else fail."""

    async def check():
        found = await fetch()
        return found if found and done(found) else None

    return await until(check, what, within)


async def new_sku(
    client: httpx.AsyncClient,
    stock: dict[str, int],
    price_cents: int = 10_000,
    on_ids: Any = None,
    facts: dict[str, Any] | None = None,
) -> dict[str, str]:
    """A fresh material, single sales product and Tmall listing, with stock at some nodes, seen everywhere.
    `on_ids(item_id, sku_id, code)`, when given, is awaited before the listing exists (e.g. to put the item
    on the platform simulator first). `facts` (handling, tags, ...) go on the material; the order service
    has them before this returns."""
    tag = uuid.uuid4().hex[:8].upper()
    code = f"E2E-{tag}"
    item_id, sku_id = str(700_000_000_000 + int(tag, 16) % 10**11), str(int(tag, 16))
    if on_ids is not None:
        await on_ids(item_id, sku_id, code)
    material = {"code": code, "name": f"e2e material {tag}", "unit": "pcs", "weight_g": 100, **(facts or {})}
    assert (await client.put(f"/api/product/materials/{code}", json=material)).status_code in (200, 201)
    if facts:

        async def facts_known():
            r = await client.get(f"/api/order/catalog/materials/{code}")
            return r.status_code == 200 and all(r.json().get(k) == v for k, v in facts.items())

        await until(facts_known, f"the order service to learn {code}'s facts")
    product = {
        "code": code,
        "name": f"e2e product {tag}",
        "kind": "single",
        "components": [{"material_code": code, "qty": 1, "price_weight": 1}],
    }
    assert (await client.put(f"/api/product/sales-products/{code}", json=product)).status_code in (200, 201)
    listing_id = f"L-E2E-{tag}"
    listing = {
        "listing_id": listing_id,
        "channel": "tmall",
        "shop_id": SHOP,
        "channel_item_id": item_id,
        "channel_sku_id": sku_id,
        "outer_id": code,
        "sales_product_code": code,
        "price_cents": price_cents,
    }
    r = await client.put(f"/api/product/channel-listings/{listing_id}", json=listing)
    assert r.status_code in (200, 201), r.text
    for node, qty in stock.items():
        receipt = {
            "receipt_id": f"e2e-{tag}-{node}",
            "node_code": node,
            "lines": [{"material_code": code, "qty": qty}],
        }
        r = await client.post("/api/inventory/receipts", json=receipt)
        assert r.status_code == 201, r.text
    await wait_for_listing(client, listing_id)
    for node, qty in stock.items():
        await wait_for_stock(client, node, code, qty)
    return {"code": code, "item_id": item_id, "sku_id": sku_id, "listing_id": listing_id}


def sku_line(sku: dict[str, str], qty: int) -> Line:
    return Line(sku["code"], qty, num_iid=sku["item_id"], sku_id=sku["sku_id"])


async def send(client: httpx.AsyncClient, doc: dict, **sign: Any) -> httpx.Response:
    params, body = signed_request(doc, **sign)
    return await client.post(
        "/channels/tmall/orders", params=params, content=body, headers={"content-type": "application/json"}
    )


def tid_of(doc: dict) -> str:
    return doc["trade_fullinfo_get_response"]["trade"]["tid_str"]


async def order_of(client: httpx.AsyncClient, tid: str, channel: str = "tmall") -> dict | None:
    r = await client.get(f"/api/order/orders/by-channel/{channel}/{tid}")
    return r.json() if r.status_code == 200 else None


async def listings_known(client: httpx.AsyncClient, listing_ids: list[str], timeout: float = 60) -> None:
    """The order service's catalog has each listing (projected from product's events): an order sent before
    it does is held `unknown_listing`."""
    for listing_id in listing_ids:

        async def known(lid: str = listing_id) -> bool:
            return (await client.get(f"/api/order/catalog/listings/{lid}")).status_code == 200

        await until(known, f"the order service to know listing {listing_id}", timeout)


async def wait_status(
    client: httpx.AsyncClient, tid: str, statuses: set[str], timeout: float = 60, channel: str = "tmall"
) -> dict:
    async def check() -> dict | None:
        o = await order_of(client, tid, channel)
        return o if o and o["status"] in statuses else None

    return await until(check, f"order {tid} to reach {sorted(statuses)}", timeout)


async def tasks_of(client: httpx.AsyncClient, order_id: str) -> list[dict]:
    r = await client.get("/api/fulfillment/tasks", params={"order_id": order_id})
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def stock(client: httpx.AsyncClient, node: str, material: str) -> dict:
    r = await client.get(f"/api/inventory/stock/{node}/{material}")
    assert r.status_code == 200, r.text
    return r.json()


async def reservations(client: httpx.AsyncClient, order_id: str) -> list[dict]:
    r = await client.get("/api/inventory/reservations", params={"order_id": order_id})
    assert r.status_code == 200, r.text
    return r.json()["items"]


__all__ = ["Line", "trade"]


async def connect_shop(client: httpx.AsyncClient, sim_url: str) -> None:
    """The seeded Tmall shop, known to the platform simulator with the same credentials and session (again:
    the conformance test's fuzzing may have replaced them)."""
    from omni_tools.catalog import SHOP as SEEDED

    shop = {k: v for k, v in SEEDED.items() if k not in {"channel", "shop_id"}}
    r = await client.put(f"/api/channel/shops/tmall/{SHOP}", json={**shop, "session_key": SIM_SESSION})
    r.raise_for_status()
    on_sim = {
        "shop_id": SHOP,
        "app_key": SEEDED["app_key"],
        "secret": SEEDED["secret"],
        "session": SIM_SESSION,
    }
    (await client.put(f"{sim_url}/_sim/taobao/shops", json=on_sim)).raise_for_status()


ALIBABA_SKUS = ("SET-COFFEE-PRO", "BEAN-ETH-500")  # the 1688 sample's cargoNumber: seeded sales products


async def alibaba_shop(
    client: httpx.AsyncClient, sim_url: str, *, prefix: str, app_key: str, secret: str, **settings: Any
) -> str:
    """A new 1688 (`alibaba`) shop (its credentials on Omni and on the simulator; `settings` such as
    accepts_on_account go on Omni's shop) with a listing per sample SKU, known to the order service."""
    shop_id = f"{prefix}-{uuid.uuid4().hex[:6]}"
    body = {"name": f"e2e {prefix}", "app_key": app_key, "secret": secret, **settings}
    r = await client.put(f"/api/channel/shops/alibaba/{shop_id}", json=body)
    assert r.status_code == 201, r.text
    assert r.json()["accepts_on_account"] is bool(settings.get("accepts_on_account")), r.text
    ids = []
    for code in ALIBABA_SKUS:
        listing_id = f"L-{prefix}-{shop_id}-{code}"
        listing = {"listing_id": listing_id, "channel": "alibaba", "shop_id": shop_id,
                   "channel_item_id": f"item-{code}", "outer_id": code, "sales_product_code": code,
                   "price_cents": 1000}  # fmt: skip
        r = await client.put(f"/api/product/channel-listings/{listing_id}", json=listing)
        assert r.status_code in (200, 201), r.text
        ids.append(listing_id)
    await listings_known(client, ids)
    on_sim = {"shop_id": shop_id, "app_key": app_key, "secret": secret, "session": "e2e-token"}
    (await client.put(f"{sim_url}/_sim/alibaba/shops", json=on_sim)).raise_for_status()
    return shop_id
