"""Issue #9 (POS): store sales from an Odoo till through the gateway, every service its own process. A sale
takes its goods out of the store node's stock (inventory) and is booked at once in a balanced voucher
(finance), with no order and no fulfillment task; a till return restocks and books the reversal; the same sale
posted twice changes nothing the second time."""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from omni_contracts import Topic

sys.path.insert(0, str(Path(__file__).parent))
from helpers import stock, until

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

SECRET = "e2e-till-secret-0123"
STORE_EVENTS = {"channel.store-sale.recorded", "channel.store-return.recorded"}


@pytest.fixture
async def store(gw) -> dict[str, Any]:
    """A fresh store node with two fresh singles in stock, a POS shop selling there, their POS listings."""
    tag = uuid.uuid4().hex[:8].upper()
    shop, node = f"POS-{tag}", f"STORE-{tag}"
    products: dict[str, int] = {}
    for name, qty in (("SET", 5), ("BEAN", 10)):
        code = f"E2E-{name}-{tag}"
        material = {"code": code, "name": f"e2e {name}", "unit": "pcs", "weight_g": 100}
        assert (await gw.put(f"/api/product/materials/{code}", json=material)).status_code in (200, 201)
        single = {"code": code, "name": f"e2e {name}", "kind": "single",
                  "components": [{"material_code": code, "qty": 1, "price_weight": 1}]}  # fmt: skip
        assert (await gw.put(f"/api/product/sales-products/{code}", json=single)).status_code in (200, 201)
        receipt = {
            "receipt_id": f"e2e-pos-{code}",
            "node_code": node,
            "lines": [{"material_code": code, "qty": qty}],
        }
        assert (await gw.post("/api/inventory/receipts", json=receipt)).status_code == 201
        products[code] = random.randint(10**5, 10**6)  # the till's product.product id
        listing = {"listing_id": f"L-{code}", "channel": "pos", "shop_id": shop,
                   "channel_item_id": str(products[code]), "outer_id": code, "sales_product_code": code,
                   "price_cents": 9900}  # fmt: skip
        r = await gw.put(f"/api/product/channel-listings/L-{code}", json=listing)
        assert r.status_code in (200, 201), r.text
    r = await gw.put(
        f"/api/channel/shops/pos/{shop}", json={"name": "e2e till", "app_key": "odoo", "secret": SECRET}
    )
    assert r.status_code in (200, 201), r.text
    config = {
        "node_code": node,
        "payment_methods": {"payment_method_id:2": "wechat", "payment_method_id:1": "cash"},
    }
    r = await gw.put(f"/api/channel/channels/pos/stores/{shop}", json=config)
    assert r.status_code == 200, r.text
    set_code, bean_code = products
    return {"shop": shop, "node": node, "set": set_code, "bean": bean_code, "ids": products}


def odoo_sale(s: dict[str, Any], uid: str) -> dict[str, Any]:
    """reference/channels/pos.md's example (Odoo 16, a 100 yuan pos_discount line), this store's products."""
    line = {"discount": 0, "tax_ids": [[6, False, [3]]], "pack_lot_ids": []}
    ids, set_name, bean_name = s["ids"], f"[{s['set']}] set", f"[{s['bean']}] beans"
    return {"id": uid, "to_invoice": False, "data": {
        "name": f"Order {uid}", "uid": uid, "pos_session_id": 12, "date_order": "2025-06-12 02:15:30",
        "amount_total": 3296.0, "amount_tax": 379.19, "amount_paid": 3296.0, "amount_return": 0.0,
        "lines": [
            [0, 0, {**line, "id": 1, "product_id": ids[s["set"]], "full_product_name": set_name,
                    "qty": 1, "price_unit": 3099.0, "price_subtotal_incl": 3099.0}],
            [0, 0, {**line, "id": 2, "product_id": ids[s["bean"]], "full_product_name": bean_name,
                    "qty": 3, "price_unit": 99.0, "price_subtotal_incl": 297.0}],
            [0, 0, {**line, "id": 3, "product_id": 900, "full_product_name": "Discount", "qty": 1,
                    "price_unit": -100.0, "price_subtotal_incl": -100.0}],
        ],
        "statement_ids": [[0, 0, {"name": "2025-06-12 02:16:02", "payment_method_id": 2, "amount": 3296.0}]],
    }}  # fmt: skip


def odoo_return(s: dict[str, Any], uid: str) -> dict[str, Any]:
    """Two of the three bags brought back, refunded in cash."""
    return {"id": uid, "to_invoice": False, "data": {
        "name": f"Order {uid} REFUND", "uid": uid, "pos_session_id": 12, "date_order": "2025-06-13 09:00:00",
        "amount_total": -198.0, "amount_tax": -22.78, "amount_paid": -198.0, "amount_return": 0.0,
        "lines": [[0, 0, {"id": 1, "product_id": s["ids"][s["bean"]], "qty": -2, "price_unit": 99.0,
                          "discount": 0, "price_subtotal_incl": -198.0, "refunded_orderline_id": 4411}]],
        "statement_ids": [[0, 0, {"name": "2025-06-13 09:00:10", "payment_method_id": 1, "amount": -198.0}]],
    }}  # fmt: skip


async def till(gw: httpx.AsyncClient, shop: str, orders: list[dict[str, Any]], secret: str = SECRET):
    """As the till calls it: the gateway's public channel route, no API key, the body HMAC-signed."""
    body = json.dumps(orders).encode()
    sig = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    headers = {"X-Pos-Shop": shop, "X-Pos-Signature": sig, "content-type": "application/json"}
    async with httpx.AsyncClient(base_url=str(gw.base_url), timeout=30) as public:
        return await public.post("/channels/pos/orders", content=body, headers=headers)


async def vouchers(gw: httpx.AsyncClient, document: str) -> list[dict[str, Any]]:
    r = await gw.get("/api/finance/vouchers", params={"order_id": document})
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def movements(gw: httpx.AsyncClient, document: str) -> list[dict[str, Any]]:
    r = await gw.get("/api/inventory/movements", params={"reference": document})
    assert r.status_code == 200, r.text
    return r.json()["items"]


def entries(v: dict[str, Any]) -> list[tuple[str, int, int]]:
    return [(x["account_code"], x["debit_cents"], x["credit_cents"]) for x in v["lines"]]


async def test_a_till_sale_and_return_move_store_stock_and_book_vouchers(gw, store):
    shop, node = store["shop"], store["node"]
    sale_uid, return_uid = (
        f"00012-003-{random.randint(1000, 9999)}",
        f"00012-004-{random.randint(1000, 9999)}",
    )

    assert (await till(gw, shop, [odoo_sale(store, sale_uid)], secret="not-the-secret")).status_code == 401

    async def taken():  # 422 (unknown product) until the channel has projected the POS listings
        r = await till(gw, shop, [odoo_sale(store, sale_uid)])
        assert r.status_code in (200, 422), r.text
        return r.json() if r.status_code == 200 else None

    answer = await until(taken, "the channel to know the POS listings", timeout=60, interval=0.5)
    assert [o["outcome"] for o in answer["orders"]] == ["accepted"]

    async def on_hand(code: str, qty: int):
        return (await stock(gw, node, code))["on_hand"] == qty

    await until(lambda: on_hand(store["set"], 4), "the set to leave the store")
    await until(lambda: on_hand(store["bean"], 7), "three bags to leave the store")
    sale_doc = f"pos:{shop}:{sale_uid}"
    (sold,) = await until(lambda: vouchers(gw, sale_doc), "the store sale's voucher")
    assert sold["kind"] == "store-sale" and sold["total_cents"] == 329600
    assert entries(sold) == [("1012", 329600, 0), ("6001", 0, 291681), ("222101", 0, 37919)]
    assert sum(x["debit_cents"] for x in sold["lines"]) == sum(x["credit_cents"] for x in sold["lines"])
    r = await gw.get(f"/api/order/orders/by-channel/pos/{sale_uid}")
    assert r.status_code == 404  # a store sale is not an order (and so has no fulfillment task)

    again = await till(gw, shop, [odoo_sale(store, sale_uid)])
    assert [o["outcome"] for o in again.json()["orders"]] == ["duplicate"]

    back = await till(gw, shop, [odoo_return(store, return_uid)])
    assert [o["outcome"] for o in back.json()["orders"]] == ["accepted"], back.text
    await until(lambda: on_hand(store["bean"], 9), "two bags back in the store's stock")
    (reversal,) = await until(lambda: vouchers(gw, f"pos:{shop}:{return_uid}"), "the return's voucher")
    assert reversal["kind"] == "store-return"
    assert entries(reversal) == [("6001", 17522, 0), ("222101", 2278, 0), ("1001", 0, 19800)]

    # the duplicate (answered before the return was posted) changed nothing
    assert len(await vouchers(gw, sale_doc)) == 1
    assert sorted((m["kind"], m["delta_on_hand"]) for m in await movements(gw, sale_doc)) == [
        ("store-sale", -3), ("store-sale", -1)]  # fmt: skip
    assert (await stock(gw, node, store["set"]))["on_hand"] == 4


def test_only_inventory_and_finance_read_store_sales_and_nothing_reads_them_as_orders():
    """Every consumer group of every service: a store sale reaches inventory and finance only (no order, so no
    fulfillment task)."""
    import importlib

    readers = set()
    for svc in ("product", "inventory", "order", "fulfillment", "finance", "channel"):
        for spec in importlib.import_module(f"omni_{svc}.consumers").specs():
            wanted = spec.event_types is None or bool(STORE_EVENTS & spec.event_types)
            if Topic.CHANNEL_ORDERS in spec.topics and wanted:
                readers.add(spec.group)
    assert readers == {"inventory-store-sales", "finance-store-sales"}
