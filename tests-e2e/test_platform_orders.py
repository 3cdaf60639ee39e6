"""Issue #9 (part): an order from each of JD, Pinduoduo, Douyin, Xiaohongshu and Youzan, signed the platform's
way, goes through the gateway to `allocated`, every service its own process; a bad signature gets a 401 and
nothing more."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from helpers import listings_known, wait_status

from omni_tools.platform_orders import PLATFORMS, sample_order, signed_order

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

FIXTURES = Path(__file__).resolve().parents[1] / "services/channel/tests/fixtures"
APP_KEY, SECRET = "e2e-app-key", "e2e-platform-secret-0123"
SKUS = ("SET-COFFEE-PRO", "BEAN-ETH-500")  # the samples' merchant codes: seeded sales products


async def shop_with_listings(gw: httpx.AsyncClient, platform: str) -> str:
    """A shop of the platform (its credentials) and a listing per sample SKU, found by merchant code."""
    shop_id = str(random.randint(10**7, 10**8)) if platform == "youzan" else f"E2E-{platform.upper()}"
    shop = {"name": f"e2e {platform}", "app_key": APP_KEY, "secret": SECRET}
    r = await gw.put(f"/api/channel/shops/{platform}/{shop_id}", json=shop)
    assert r.status_code in (200, 201), r.text
    for code in SKUS:
        listing_id = f"L-E2E-{platform.upper()}-{shop_id}-{code}"
        listing = {"listing_id": listing_id, "channel": platform, "shop_id": shop_id,
                   "channel_item_id": f"item-{code}", "outer_id": code, "sales_product_code": code,
                   "price_cents": 1000}  # fmt: skip
        r = await gw.put(f"/api/product/channel-listings/{listing_id}", json=listing)
        assert r.status_code in (200, 201), r.text
    await listings_known(gw, [f"L-E2E-{platform.upper()}-{shop_id}-{code}" for code in SKUS])
    return shop_id


async def post(gw, platform: str, query: dict[str, str], body: bytes) -> httpx.Response:
    return await gw.post(f"/api/channel/channels/{platform}/orders", params=query, content=body,
                         headers={"content-type": "application/json"})  # fmt: skip


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_an_order_from_each_platform_is_allocated(gw, platform):
    shop_id = await shop_with_listings(gw, platform)
    doc, oid = sample_order(FIXTURES, platform)

    bad_query, bad_body = signed_order(platform, shop_id, doc, APP_KEY, "not-the-secret-000000")
    r = await post(gw, platform, bad_query, bad_body)
    assert r.status_code == 401, r.text

    query, body = signed_order(platform, shop_id, doc, APP_KEY, SECRET)
    r = await post(gw, platform, query, body)
    assert r.status_code == 202, r.text
    order = await wait_status(gw, oid, {"allocated"}, timeout=120, channel=platform)
    assert order["status"] == "allocated"
    money = order["money"]
    assert (money["goods_cents"], money["discount_cents"], money["paid_cents"]) == (339600, 10000, 329600)
    # decomposed to materials (the set is a bundle), the allocation still adds up to the fen
    assert sum(a["amount_cents"] for a in money["allocation"]) == 329600
