"""Issue #9 (part): for each of JD, Pinduoduo, Douyin, Xiaohongshu and Youzan, an order from the platform is
shipped by fulfillment and written back to the platform (the stack's simulator) with the platform's carrier
code, every service its own process. The stock push to each platform is proven against the simulator on
real Kafka and PostgreSQL in services/channel/tests/integration/test_platform_outbound.py."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from helpers import listings_known, tasks_of, until, wait_status

from omni_channel.platforms import carriers
from omni_tools.platform_orders import PLATFORMS, sample_order, signed_order

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

FIXTURES = Path(__file__).resolve().parents[1] / "services/channel/tests/fixtures"
APP_KEY, SECRET, TOKEN = "e2e-out-app-key", "e2e-out-platform-secret-0123", "e2e-out-token"
SKUS = ("SET-COFFEE-PRO", "BEAN-ETH-500")  # the samples' merchant codes: seeded sales products


@pytest.fixture
async def sim(e2e_stack):
    async with httpx.AsyncClient(base_url=e2e_stack["sim"], timeout=30) as c:
        yield c


async def shop(gw: httpx.AsyncClient, sim: httpx.AsyncClient, platform: str) -> str:
    """A shop with a token, known to the simulator with the same keys, and a listing per sample SKU."""
    shop_id = str(random.randint(10**7, 10**8)) if platform == "youzan" else f"E2E-OUT-{platform.upper()}"
    body = {"name": f"e2e out {platform}", "app_key": f"{APP_KEY}-{platform}", "secret": SECRET,
            "session_key": TOKEN}  # fmt: skip
    r = await gw.put(f"/api/channel/shops/{platform}/{shop_id}", json=body)
    assert r.status_code in (200, 201), r.text
    on_sim = {"shop_id": shop_id, "app_key": body["app_key"], "secret": SECRET, "session": TOKEN}
    (await sim.put(f"/_sim/{platform}/shops", json=on_sim)).raise_for_status()
    for code in SKUS:
        listing_id = f"L-E2E-OUT-{platform.upper()}-{shop_id}-{code}"
        listing = {"listing_id": listing_id, "channel": platform, "shop_id": shop_id,
                   "channel_item_id": f"item-{code}", "outer_id": code, "sales_product_code": code,
                   "price_cents": 1000}  # fmt: skip
        r = await gw.put(f"/api/product/channel-listings/{listing_id}", json=listing)
        assert r.status_code in (200, 201), r.text
    await listings_known(gw, [f"L-E2E-OUT-{platform.upper()}-{shop_id}-{code}" for code in SKUS])
    return shop_id


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_a_shipped_order_is_written_back_to_its_platform(gw, sim, platform):
    shop_id = await shop(gw, sim, platform)
    doc, oid = sample_order(FIXTURES, platform, order_id=random.randint(10**11, 10**12 - 1))
    query, body = signed_order(platform, shop_id, doc, f"{APP_KEY}-{platform}", SECRET)
    r = await gw.post(f"/api/channel/channels/{platform}/orders", params=query, content=body,
                      headers={"content-type": "application/json"})  # fmt: skip
    assert r.status_code == 202, r.text
    order = await wait_status(gw, oid, {"allocated"}, timeout=120, channel=platform)
    tasks = await tasks_of(gw, order["order_id"])
    for i, task in enumerate(tasks):
        url = f"/api/fulfillment/tasks/{task['task_id']}"
        assert (await gw.post(f"{url}/accept", json={"staff_id": "e2e"})).status_code == 200
        r = await gw.post(f"{url}/ship", json={"carrier": "SF", "tracking_no": f"SF{oid[-6:]}{i}"})
        assert r.status_code == 200, r.text

    async def written_back() -> list[dict] | None:
        found = (await sim.get(f"/_sim/{platform}/shipments", params={"tid": oid})).json()["shipments"]
        return found or None

    [shipped] = await until(written_back, f"{platform} order {oid} written back", timeout=60)
    sent = {f"SF{oid[-6:]}{i}" for i in range(len(tasks))}
    assert shipped["out_sid"] in sent and shipped["company_code"] == carriers.load().code_for(platform, "SF")

    async def settled() -> list[dict] | None:
        r = await gw.get("/api/channel/shipment-writebacks", params={"order_id": order["order_id"]})
        items = r.json()["items"]
        final = ("acknowledged", "unsupported", "refused")
        done = len(items) == len(tasks) and all(w["state"] in final for w in items)
        return items if done else None

    items = await until(settled, "the write-backs settled", timeout=60)
    assert [w["state"] for w in items].count("acknowledged") == 1
    # a later parcel is held as not sent (or, sent side by side with the first, refused as already shipped)
    assert all(w["last_error"] for w in items if w["state"] != "acknowledged")


async def test_a_refused_write_back_shows_on_the_order(gw, sim):
    """The platform closed the order before it shipped: the write-back is refused, and the order says so."""
    platform = "pdd"
    shop_id = await shop(gw, sim, platform)
    doc, oid = sample_order(FIXTURES, platform, order_id=random.randint(10**11, 10**12 - 1))
    query, body = signed_order(platform, shop_id, doc, f"{APP_KEY}-{platform}", SECRET)
    r = await gw.post(f"/api/channel/channels/{platform}/orders", params=query, content=body,
                      headers={"content-type": "application/json"})  # fmt: skip
    assert r.status_code == 202, r.text
    order = await wait_status(gw, oid, {"allocated"}, timeout=120, channel=platform)
    (await sim.post(f"/_sim/{platform}/trades/{oid}/close")).raise_for_status()
    for i, task in enumerate(await tasks_of(gw, order["order_id"])):
        url = f"/api/fulfillment/tasks/{task['task_id']}"
        assert (await gw.post(f"{url}/accept", json={"staff_id": "e2e"})).status_code == 200
        r = await gw.post(f"{url}/ship", json={"carrier": "SF", "tracking_no": f"SFX{oid[-6:]}{i}"})
        assert r.status_code == 200, r.text

    async def shown() -> list[dict] | None:
        o = (await gw.get(f"/api/order/orders/{order['order_id']}")).json()
        return o.get("writeback_problems") or None

    [problem, *_] = await until(shown, "the refusal shown on the order", timeout=60)
    assert problem["channel"] == platform and problem["carrier"] == "SF" and "closed" in problem["reason"]
    assert not (await sim.get(f"/_sim/{platform}/shipments", params={"tid": oid})).json()["shipments"]
