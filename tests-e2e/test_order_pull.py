"""Issue #9 (part): JD and Pinduoduo orders are pulled from the simulator by the channel service's durable
sync (no webhook), every service its own process, and each reaches `allocated` in the order service; the
shop's cursor shows them fetched and published once."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from helpers import until, wait_status
from test_platform_orders import APP_KEY, SECRET, shop_with_listings

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

SESSION = "e2e-pull-session"
COUNT = 3


@pytest.mark.parametrize("platform", ["jd", "pdd"])
async def test_orders_pulled_from_the_platform_are_allocated(e2e_stack, gw, platform):
    shop_id = await shop_with_listings(gw, platform)
    body = {"name": f"e2e {platform}", "app_key": APP_KEY, "secret": SECRET, "session_key": SESSION}
    async with httpx.AsyncClient(base_url=e2e_stack["sim"], timeout=30) as sim:
        keys = {"shop_id": shop_id, "app_key": APP_KEY, "secret": SECRET, "session": SESSION}
        r = await sim.put(f"/_sim/{platform}/shops", json=keys)
        assert r.status_code == 200, r.text
        r = await sim.post(f"/_sim/{platform}/orders/generate",
                           json={"shop_id": shop_id, "count": COUNT, "spread_s": 60})  # fmt: skip
        assert r.status_code == 200, r.text
        made = r.json()
    r = await gw.put(f"/api/channel/shops/{platform}/{shop_id}", json=body)  # the keys: its sync runs now
    assert r.status_code == 200, r.text
    first = await wait_status(gw, made["first"], {"allocated"}, timeout=120, channel=platform)
    last = await wait_status(gw, made["last"], {"allocated"}, timeout=120, channel=platform)
    assert first["status"] == last["status"] == "allocated"

    async def caught_up() -> dict | None:
        c = (await gw.get(f"/api/channel/pull-cursors/{platform}/{shop_id}")).json()
        return c if c.get("published", 0) >= COUNT and c.get("window_start") is None else None

    cursor = await until(caught_up, f"{platform} shop {shop_id}'s pull to catch up", 60)
    assert cursor["refused"] == 0 and cursor["failures"] == 0
    r = await gw.get(
        "/api/channel/received-orders", params={"channel": platform, "channel_order_id": made["first"]}
    )
    assert [x["deliveries"] for x in r.json()["items"]] == [1]  # re-fetched by overlaps, recorded once
