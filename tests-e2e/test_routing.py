"""Routing end to end, through the gateway: a store closed today (a holiday in its settings) is skipped and
its reason is in the order's decision trace, and it takes the next order once its settings open it again;
a route hint an OMS rule sets picks its node over a nearer one, and the trace says so.

The stack is shared by every e2e test, so everything is this test's own: a fresh store node (deactivated at
the end), fresh SKUs stocked only where this test puts them, and a strategy whose rule set hints only orders
of this test's SKU (disabled when the test ends, whatever happened).
"""

from __future__ import annotations

import sys
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from helpers import SHOP, new_sku, send, sku_line, tid_of, trade, until, wait_status

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

WH_HZ = {"lat": 30.274, "lng": 120.155}  # the seeded Hangzhou warehouse (priority 10)
SHANGHAI = ZoneInfo("Asia/Shanghai")


async def order_to_hangzhou(gw: httpx.AsyncClient, sku: dict) -> dict:
    doc = trade([sku_line(sku, 1)], address=0)  # 杭州市西湖区
    assert (await send(gw, doc)).status_code == 202
    order = await wait_status(gw, tid_of(doc), {"allocated", "exception", "backorder", "held"})
    assert order["status"] == "allocated", (order["status"], order.get("status_reason"))
    return order


async def sourcing_rows(gw: httpx.AsyncClient, order_id: str, nodes: int) -> dict[str, dict]:
    """The order's trace rows of stage sourcing, by node code, once there is one per node considered."""

    async def rows() -> dict[str, dict] | None:
        r = await gw.get(f"/api/order/orders/{order_id}/trace")
        assert r.status_code == 200, r.text
        found = {d["subject"].split()[1]: d for d in r.json()["decisions"] if d["stage"] == "sourcing"}
        return found if len(found) >= nodes else None

    return await until(rows, f"the sourcing decisions of {order_id} in its trace")


@pytest.fixture
async def closed_store(gw):
    """A store beside WH-HZ with a higher priority (it would win), closed today and tomorrow (holidays)."""
    code = f"ST-E2E-{uuid.uuid4().hex[:6].upper()}"
    node = {"name": f"e2e store {code}", "type": "store", "city": "杭州", **WH_HZ, "priority": 50}
    assert (await gw.put(f"/api/fulfillment/nodes/{code}", json=node)).status_code == 201
    today = datetime.now(SHANGHAI).date()
    holidays = [{"date": (today + timedelta(days=d)).isoformat(), "name": "e2e stocktake"} for d in (0, 1)]
    r = await gw.put(f"/api/fulfillment/nodes/{code}/routing", json={"holidays": holidays})
    assert r.status_code == 200, r.text
    try:
        yield code
    finally:
        assert (await gw.delete(f"/api/fulfillment/nodes/{code}")).status_code == 200


async def test_a_closed_store_is_skipped_with_its_reason_in_the_trace(gw, closed_store):
    st = closed_store
    r = await gw.get(f"/api/fulfillment/nodes/{st}/load")
    assert r.status_code == 200 and r.json()["closed"].startswith("closed: holiday "), r.text
    sku = await new_sku(gw, {st: 5, "WH-HZ": 5})

    order = await order_to_hangzhou(gw, sku)
    rows = await sourcing_rows(gw, order["order_id"], 2)
    chosen, skipped = rows["WH-HZ"], rows[st]
    assert chosen["matched"] is True and chosen["effect"] == f"ships {sku['code']}×1", chosen
    assert skipped["matched"] is False and skipped["effect"] == "unusable", skipped
    assert skipped["why"].startswith("closed: holiday ") and " e2e stocktake; opens " in skipped["why"], (
        skipped
    )
    assert skipped["why"].endswith("Asia/Shanghai; holds every line"), skipped

    # opened again through REST (no restart): the next order goes to the store
    assert (await gw.put(f"/api/fulfillment/nodes/{st}/routing", json={})).status_code == 200
    again = await order_to_hangzhou(gw, sku)
    rows = await sourcing_rows(gw, again["order_id"], 2)
    assert rows[st]["matched"] is True and rows["WH-HZ"]["effect"] == "lost", rows


@pytest.fixture
async def hinting_strategy(gw):
    """A fresh SKU at WH-HZ (near Hangzhou) and WH-BJ, and a strategy for the e2e shop whose rule hints node
    WH-BJ for orders of that SKU only."""
    tag = uuid.uuid4().hex[:8]
    sku = await new_sku(gw, {"WH-HZ": 5, "WH-BJ": 5})
    rs, strategy = f"e2e-route-{tag}", f"e2e-route-strategy-{tag}"
    rule = {"id": f"to-bj-{tag}", "name": "ship this SKU from Beijing",
            "when": {"type": "sku", "codes": [sku["code"]], "match": "any"},
            "then": [{"type": "route_hint", "node": "WH-BJ"}]}  # fmt: skip

    async def saved() -> bool:  # the order service learns the SKU from product's events
        body = {"name": f"e2e routing {tag}", "rules": [rule]}
        r = await gw.put(f"/api/order/rulesets/{rs}", json=body, params={"comment": "e2e"})
        assert r.status_code in (200, 422), r.text
        return r.status_code == 200

    await until(saved, f"rule set {rs} saved")
    doc = {
        "name": f"e2e routing strategy {tag}",
        "match": {"channels": ["tmall"], "shops": [f"tmall:{SHOP}"]},
        "ruleset_id": rs,
        "review": {"auto_approve": True},
        "merge": {"enabled": False},
    }
    r = await gw.put(f"/api/order/strategies/{strategy}", json=doc, params={"comment": "e2e"})
    assert r.status_code == 200, r.text
    try:
        yield {"sku": sku, "ruleset": rs}
    finally:
        off = await gw.put(f"/api/order/strategies/{strategy}", json={**doc, "enabled": False},
                           params={"comment": "e2e test over"})  # fmt: skip
        assert off.status_code == 200, off.text


async def test_a_route_hint_from_an_oms_rule_picks_its_node(gw, hinting_strategy):
    sku, rs = hinting_strategy["sku"], hinting_strategy["ruleset"]
    order = await order_to_hangzhou(gw, sku)
    rows = await sourcing_rows(gw, order["order_id"], 2)
    hint = f"route hint node WH-BJ ({rs} v1)"
    chosen, lost = rows["WH-BJ"], rows["WH-HZ"]
    assert chosen["matched"] is True and chosen["why"].endswith(f"; {hint} followed"), chosen
    assert lost["effect"] == "lost" and lost["why"] == f"lost: {hint} is followed; holds every line", lost
    r = await gw.get("/api/fulfillment/tasks", params={"order_id": order["order_id"]})
    assert [t["node_code"] for t in r.json()["items"]] == ["WH-BJ"]
