"""Demo data, loaded through the gateway, idempotently: the coffee catalog, nodes, stock, a Tmall shop; and
`seed_platform`: the same shop and its items on the platform simulator, so stock pushes are acknowledged."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

import httpx

from .catalog import LISTINGS, MATERIALS, NODES, SALES_PRODUCTS, SESSION_KEY, SHOP, STOCK
from .client import check

SIM_URL = os.environ.get("OMNI_SIM_URL") or f"http://127.0.0.1:{os.environ.get('OMNI_SIM_PORT', '8090')}"


async def seed(client: httpx.AsyncClient, stock: list[tuple[str, str, int]] | None = None) -> dict[str, Any]:
    shop = {k: v for k, v in SHOP.items() if k not in {"channel", "shop_id"}}
    check(await client.put(f"/api/channel/shops/{SHOP['channel']}/{SHOP['shop_id']}", json=shop))
    for m in MATERIALS:
        check(await client.put(f"/api/product/materials/{m['code']}", json=m))
    for p in SALES_PRODUCTS:
        check(await client.put(f"/api/product/sales-products/{p['code']}", json=p))
    for listing in LISTINGS:
        check(await client.put(f"/api/product/channel-listings/{listing['listing_id']}", json=listing))
    for n in NODES:
        check(await client.put(f"/api/fulfillment/nodes/{n['code']}", json=n))
        # its routing settings as seeded (the defaults: always open, no limits), which a PUT of the node keeps
        check(await client.put(f"/api/fulfillment/nodes/{n['code']}/routing", json={}))
    for node, material, qty in stock if stock is not None else STOCK:
        receipt = {
            "receipt_id": f"seed-{node}-{material}",
            "node_code": node,
            "lines": [{"material_code": material, "qty": qty}],
            "note": "demo opening stock",
        }
        check(await client.post("/api/inventory/receipts", json=receipt), 200, 201)
    return {
        "materials": len(MATERIALS),
        "sales_products": len(SALES_PRODUCTS),
        "listings": len(LISTINGS),
        "nodes": len(NODES),
        "stock_lines": len(STOCK),
    }


def sim_shop() -> dict[str, str]:
    """The seeded Tmall shop as the simulator holds it (`PUT /_sim/taobao/shops`)."""
    return {"shop_id": SHOP["shop_id"], "app_key": SHOP["app_key"], "secret": SHOP["secret"],
            "session": SESSION_KEY}  # fmt: skip


def sim_item(listing: dict[str, Any], quantity: int = 0) -> dict[str, Any]:
    """A Tmall listing as the simulator's item (`PUT /_sim/taobao/items`): num_iid = channel_item_id, one
    SKU per channel_sku_id (digits) with the listing's outer_id."""
    item: dict[str, Any] = {"num_iid": int(listing["channel_item_id"]), "shop_id": listing["shop_id"],
                            "title": listing.get("title") or listing["listing_id"],
                            "outer_id": listing.get("outer_id"), "quantity": quantity,
                            "skus": []}  # fmt: skip
    if listing.get("channel_sku_id"):
        item["skus"] = [{"sku_id": int(listing["channel_sku_id"]), "outer_id": listing.get("outer_id"),
                         "quantity": quantity}]  # fmt: skip
    return item


async def put_platform_items(
    client: httpx.AsyncClient, sim: httpx.AsyncClient, listings: Iterable[dict[str, Any]], resync: bool = True
) -> list[str]:
    """Make the simulator hold each listing's item (quantity 0 when it is new; an item it holds keeps its
    quantity) and, with `resync`, push the listings it did not hold again (the simulator's state is in
    memory: a restart empties it). Returns the listing ids whose item was new."""
    new = []
    for listing in listings:
        if (await sim.get(f"/_sim/taobao/items/{int(listing['channel_item_id'])}")).status_code == 200:
            continue
        check(await sim.put("/_sim/taobao/items", json=sim_item(listing)))
        new.append(listing["listing_id"])
        if resync:
            await resync_listing(client, listing["listing_id"])
    return new


async def resync_listing(client: httpx.AsyncClient, listing_id: str) -> None:
    """Push the listing's number again (404: nothing computed for it yet; it is pushed when it is)."""
    check(await client.post(f"/api/channel/push-status/{listing_id}/resync"), 202, 404)


async def seed_platform(
    client: httpx.AsyncClient, sim_url: str = SIM_URL, listings: Iterable[dict[str, Any]] = LISTINGS
) -> dict[str, Any]:
    """Idempotent: the simulator knows the seeded Tmall shop (same app_key, secret and session) and every
    listing's item, then the channel shop gets that session key. A listing whose item was new there, or that
    was refused or waited for credentials (the simulator did not know it), is pushed again."""
    listings = list(listings)
    async with httpx.AsyncClient(base_url=sim_url, timeout=httpx.Timeout(10, connect=3)) as sim:
        check(await sim.put("/_sim/taobao/shops", json=sim_shop()))
        new = await put_platform_items(client, sim, listings, resync=False)
    shop = {k: v for k, v in SHOP.items() if k not in {"channel", "shop_id"}}
    path = f"/api/channel/shops/{SHOP['channel']}/{SHOP['shop_id']}"
    check(await client.put(path, json={**shop, "session_key": SESSION_KEY}))
    for listing in listings:
        lid = listing["listing_id"]
        r = await client.get(f"/api/channel/push-status/{lid}")
        if lid in new or (r.status_code == 200 and r.json()["state"] in ("refused", "credentials")):
            await resync_listing(client, lid)
    return {"items on the simulator": len(listings), "new there": len(new)}
