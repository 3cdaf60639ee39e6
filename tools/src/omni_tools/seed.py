"""Demo data, loaded through the gateway, idempotently: the coffee catalog, nodes, stock, a Tmall shop."""

from __future__ import annotations

from typing import Any

import httpx

from .catalog import LISTINGS, MATERIALS, NODES, SALES_PRODUCTS, SHOP, STOCK
from .client import check


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
