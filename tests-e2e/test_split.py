"""Split by type (拆单) end to end, every service its own process: a rule set asks cold-chain goods to ship
apart; a Tmall trade of a cold-chain item, a normal one and a coupon (virtual) is allocated as two tasks at
one warehouse (the cold line alone), the coupon on no task (fulfilled by the OMS); both tasks ship and the
order completes. A trade of the coupon alone completes with no task at all, and finance recognises its revenue
with the sale.

The rule only matches this test's own cold item, and the strategy is disabled at the end (the stack is
shared)."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from helpers import SHOP, new_sku, order_of, send, sku_line, tasks_of, tid_of, trade, until, wait_status

FINANCE = {"X-API-Key": "dev-finance-key"}
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]


@pytest.fixture
async def goods(gw):
    cold = await new_sku(gw, {"WH-HZ": 5}, facts={"handling": "cold_chain"})
    plain = await new_sku(gw, {"WH-HZ": 5})
    coupon = await new_sku(gw, {}, facts={"handling": "virtual"})
    tag = uuid.uuid4().hex[:8]
    rs, sid = f"e2e-split-rs-{tag}", f"e2e-split-{tag}"
    rule = {"id": f"cold-{tag}", "name": "chilled goods ship apart",
            "when": {"type": "sku", "match": "any", "codes": [cold["code"]]},
            "then": [{"type": "split_by_type", "kinds": ["cold_chain"]}]}  # fmt: skip
    r = await gw.put(f"/api/order/rulesets/{rs}", json={"name": f"e2e split {tag}", "rules": [rule]})
    assert r.status_code == 200, r.text
    doc = {"name": f"e2e split {tag}", "priority": 980, "ruleset_id": rs,
           "match": {"channels": ["tmall"], "shops": [f"tmall:{SHOP}"]}}  # fmt: skip
    r = await gw.put(f"/api/order/strategies/{sid}", json=doc)
    assert r.status_code == 200, r.text
    try:
        yield cold, plain, coupon
    finally:
        r = await gw.put(f"/api/order/strategies/{sid}", json={**doc, "enabled": False})
        assert r.status_code == 200, r.text


async def completed(gw, tid: str) -> dict:
    async def done():
        o = await order_of(gw, tid)
        return o if o and o["status"] in ("completed", "exception", "cancelled") else None

    order = await until(done, f"trade {tid} completed", timeout=90)
    assert order["status"] == "completed", order.get("status_reason")
    return order


async def test_cold_goods_ship_apart_and_a_coupon_needs_no_task(gw, goods):
    cold, plain, coupon = goods
    doc = trade([sku_line(cold, 1), sku_line(plain, 2), sku_line(coupon, 1)])
    assert (await send(gw, doc)).status_code == 202
    order = await wait_status(gw, tid_of(doc), {"allocated", "exception", "backorder"}, timeout=90)
    assert order["status"] == "allocated", order.get("status_reason")
    lines = {x["material_code"]: x for x in order["goods"]["lines"]}
    assert lines[cold["code"]]["group"] == "cold_chain" and lines[plain["code"]]["group"] is None
    assert lines[coupon["code"]]["ships"] is False
    tasks = await tasks_of(gw, order["order_id"])
    assert len(tasks) == 2 and {t["node_code"] for t in tasks} == {"WH-HZ"}  # one warehouse, two parcels
    carried = sorted(sorted(x["material_code"] for x in t["lines"]) for t in tasks)
    assert carried == sorted([[cold["code"]], [plain["code"]]])
    trace = (await gw.get(f"/api/order/orders/{order['order_id']}/trace")).json()
    splits = [d["why"] for d in trace["decisions"] if d["stage"] == "split"]
    assert any("cold chain: ships apart" in w for w in splits) and any("virtual goods" in w for w in splits)
    for i, task in enumerate(tasks):
        url = f"/api/fulfillment/tasks/{task['task_id']}"
        assert (await gw.post(f"{url}/accept", json={"staff_id": "e2e"})).status_code == 200
        r = await gw.post(
            f"{url}/ship", json={"carrier": "SF", "tracking_no": f"SFSPLIT{tid_of(doc)[-6:]}{i}"}
        )
        assert r.status_code == 200, r.text
    await completed(gw, tid_of(doc))


async def test_an_order_of_a_coupon_alone_completes_without_a_task(gw, goods):
    _, _, coupon = goods
    doc = trade([sku_line(coupon, 1)])
    assert (await send(gw, doc)).status_code == 202
    order = await completed(gw, tid_of(doc))
    assert await tasks_of(gw, order["order_id"]) == []
    assert [h["to_status"] for h in order["history"]][-2:] == ["accepted", "completed"]

    # finance: the coupon's revenue is recognised with the sale (the OMS fulfilled it at once), and no
    # goods money is left deferred (any freight waits for goods that leave: there are none)
    async def books() -> dict | None:
        r = await gw.get(f"/api/finance/orders/{order['order_id']}/vouchers", headers=FINANCE)
        kinds = {v["kind"]: v for v in r.json()["items"]} if r.status_code == 200 else {}
        return kinds if {"sale", "revenue"} <= set(kinds) else None

    vouchers = await until(books, "finance's sale and the coupon's revenue")
    assert vouchers["revenue"]["source_event_type"] == "order.accepted"
    recognised = {
        x["account_code"]: x["credit_cents"] for x in vouchers["revenue"]["lines"] if x["credit_cents"]
    }
    assert recognised == {"6001": order["money"]["goods_paid_cents"]}, vouchers["revenue"]
