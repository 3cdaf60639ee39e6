"""1688 (`alibaba`, B2B wholesale) end to end, every service its own process: the SIMULATOR pushes a paid
1688 order (the `alibaba.trade.get.sellerView` detail, signed HMAC-SHA1 over the urlPath and the sorted
key+value pairs) to the gateway's public webhook; the channel publishes it (payment paid) and the OMS accepts
and allocates it. An unpaid one of an ordinary trade type is refused "not paid yet", as on every platform.
(Orders on account, 账期, wait for the OMS's credit check: not here.)"""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from helpers import listings_known, wait_status

from omni_tools.platform_orders import sample_order

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

FIXTURES = Path(__file__).resolve().parents[1] / "services/channel/tests/fixtures"
APP_KEY, SECRET = "e2e-1688-app-key", "e2e-1688-secret-0123"
SKUS = ("SET-COFFEE-PRO", "BEAN-ETH-500")  # the sample's cargoNumber: seeded sales products


async def shop_with_listings(gw: httpx.AsyncClient, sim: str) -> str:
    """A 1688 shop (its credentials, on Omni and on the simulator) and a listing per sample SKU."""
    shop_id = f"E2E-1688-{uuid.uuid4().hex[:6]}"
    r = await gw.put(f"/api/channel/shops/alibaba/{shop_id}",
                     json={"name": "e2e 1688", "app_key": APP_KEY, "secret": SECRET})  # fmt: skip
    assert r.status_code == 201, r.text
    assert r.json()["accepts_on_account"] is False
    ids = []
    for code in SKUS:
        listing_id = f"L-E2E-1688-{shop_id}-{code}"
        listing = {"listing_id": listing_id, "channel": "alibaba", "shop_id": shop_id,
                   "channel_item_id": f"item-{code}", "outer_id": code, "sales_product_code": code,
                   "price_cents": 1000}  # fmt: skip
        r = await gw.put(f"/api/product/channel-listings/{listing_id}", json=listing)
        assert r.status_code in (200, 201), r.text
        ids.append(listing_id)
    await listings_known(gw, ids)
    on_sim = {"shop_id": shop_id, "app_key": APP_KEY, "secret": SECRET, "session": "e2e-token"}
    (await gw.put(f"{sim}/_sim/alibaba/shops", json=on_sim)).raise_for_status()
    return shop_id


async def test_a_paid_1688_order_pushed_by_the_simulator_is_accepted_by_the_oms(gw, e2e_stack):
    sim = str(e2e_stack["sim"])
    shop_id = await shop_with_listings(gw, sim)

    doc, oid = sample_order(FIXTURES, "alibaba")
    r = await gw.post(f"{sim}/_sim/alibaba/push/orders", json={"shop_id": shop_id, "order": doc})
    assert r.status_code == 200 and r.json()["status"] == 202, r.text
    assert r.json()["body"] == {
        "accepted": True,
        "event_id": r.json()["body"]["event_id"],
        "channel_order_id": oid,
    }

    order = await wait_status(gw, oid, {"allocated"}, timeout=120, channel="alibaba")
    assert (order["trade"]["channel"], order["trade"]["shop_id"]) == ("alibaba", shop_id)
    money = order["money"]
    assert (money["goods_cents"], money["discount_cents"], money["paid_cents"]) == (339600, 10000, 329600)
    assert sum(a["amount_cents"] for a in money["allocation"]) == 329600

    unpaid, uid = sample_order(FIXTURES, "alibaba")
    base = unpaid["result"]["baseInfo"]
    base["status"] = "waitbuyerpay"
    del base["payTime"]
    r = await gw.post(f"{sim}/_sim/alibaba/push/orders", json={"shop_id": shop_id, "order": unpaid})
    assert r.status_code == 200 and r.json()["status"] == 202, r.text
    assert r.json()["body"] == {"accepted": False, "reason": "status waitbuyerpay: not paid yet",
                                "channel_order_id": uid}  # fmt: skip
    r = await gw.get("/api/channel/received-orders", params={"channel": "alibaba", "shop_id": shop_id})
    outcomes = {i["channel_order_id"]: i["outcome"] for i in r.json()["items"]}
    assert outcomes == {oid: "published", uid: "ignored"}
