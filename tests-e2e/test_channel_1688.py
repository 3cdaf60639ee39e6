"""1688 (`alibaba`, B2B wholesale) end to end, every service its own process: the SIMULATOR pushes a paid
1688 order (the `alibaba.trade.get.sellerView` detail, signed HMAC-SHA1 over the urlPath and the sorted
key+value pairs) to the gateway's public webhook; the channel publishes it (payment paid) and the OMS accepts
and allocates it. An unpaid one of an ordinary trade type is refused "not paid yet", as on every platform.
(Orders on account, 账期, wait for the OMS's credit check: not here.)"""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from helpers import alibaba_shop, wait_status

from omni_tools.platform_orders import sample_order

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

FIXTURES = Path(__file__).resolve().parents[1] / "services/channel/tests/fixtures"
APP_KEY, SECRET = "e2e-1688-app-key", "e2e-1688-secret-0123"


async def shop_with_listings(gw: httpx.AsyncClient, sim: str) -> str:
    return await alibaba_shop(gw, sim, prefix="E2E-1688", app_key=APP_KEY, secret=SECRET)


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
