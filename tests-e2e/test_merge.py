"""Merge (合单) end to end on Tmall, every service its own process: a strategy's merge window holds two
trades of one buyer to one address; the order service's timer merges them into one order.

- held, then unmerged: one trade asks for a call, so the merged order inherits that hold; an operator
  unmerges it, the quiet trade is allocated alone, the other is held again on its own hold and, released,
  is allocated alone too;
- shipped: a merged order is allocated as one parcel, shipped once, and the shipment is written back to
  BOTH platform orders on the simulator with the same waybill; finance books a sale per platform order.

The strategy is scoped to this test's shop and disabled at the end (the stack is shared); the buyer is new
to each test, so nothing else merges with its trades."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from helpers import (
    SHOP,
    new_sku,
    order_of,
    send,
    sku_line,
    stock,
    tasks_of,
    tid_of,
    trade,
    until,
    wait_status,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]
WINDOW_S = 4


@pytest.fixture
async def merging(gw):
    tag = uuid.uuid4().hex[:8]
    rs, sid = f"e2e-merge-rs-{tag}", f"e2e-merge-{tag}"
    call = {
        "id": f"call-{tag}",
        "name": "a buyer who asks for a call",
        "when": {"type": "message", "contains": [tag]},
        "then": [{"type": "hold", "code": "buyer_message", "reason": "the buyer asks to be called"}],
    }
    r = await gw.put(f"/api/order/rulesets/{rs}", json={"name": f"e2e merge {tag}", "rules": [call]})
    assert r.status_code == 200, r.text
    doc = {"name": f"e2e merge {tag}", "priority": 970, "ruleset_id": rs,
           "match": {"channels": ["tmall"], "shops": [f"tmall:{SHOP}"]},
           "merge": {"enabled": True, "window_s": WINDOW_S}}  # fmt: skip
    r = await gw.put(f"/api/order/strategies/{sid}", json=doc)
    assert r.status_code == 200, r.text
    try:
        yield tag
    finally:
        r = await gw.put(f"/api/order/strategies/{sid}", json={**doc, "enabled": False})
        assert r.status_code == 200, r.text


def two_trades(sku: dict, buyer: str, message: str = "") -> list[dict]:
    docs = [trade([sku_line(sku, 1)]), trade([sku_line(sku, 2)])]
    for d in docs:
        d["trade_fullinfo_get_response"]["trade"]["buyer_open_uid"] = buyer
    docs[0]["trade_fullinfo_get_response"]["trade"]["buyer_message"] = message
    return docs


async def merged_of(gw: httpx.AsyncClient, docs: list[dict]) -> tuple[dict, list[dict]]:
    """The merged order of the docs' orders (once both are merged), and the sources."""

    async def both_merged():
        found = [await order_of(gw, tid_of(d)) for d in docs]
        return found if all(o and o["status"] == "merged" for o in found) else None

    sources = await until(both_merged, "both trades merged", timeout=60 + WINDOW_S)
    (m_id,) = {s["merge"]["merged_into"] for s in sources}
    return (await gw.get(f"/api/order/orders/{m_id}")).json(), sources


async def test_a_held_merged_order_is_unmerged_and_each_trade_goes_on_alone(gw, merging):
    sku = await new_sku(gw, {"WH-HZ": 10})
    docs = two_trades(sku, f"e2e-buyer-{uuid.uuid4().hex[:10]}", message=f"please call first {merging}")
    for d in docs:
        assert (await send(gw, d)).status_code == 202
    m, _ = await merged_of(gw, docs)
    assert m["merge"]["kind"] == "merged" and len(m["merge"]["sources"]) == 2
    assert (m["status"], m["status_reason_code"]) == ("held", "buyer_message"), m["status_reason"]
    assert not await tasks_of(gw, m["order_id"])  # held: fulfillment never saw it
    trace = (await gw.get(f"/api/order/orders/{m['order_id']}/trace")).json()
    assert any(x["stage"] == "merge" and "merged from" in x["why"] for x in trace["decisions"]), trace

    r = await gw.post(f"/api/order/orders/{m['order_id']}/unmerge", json={"reason": "call first, ship apart"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "cancelled"
    quiet = await wait_status(gw, tid_of(docs[1]), {"allocated", "exception", "backorder"}, timeout=60)
    assert quiet["status"] == "allocated", quiet.get("status_reason")
    asked = await order_of(gw, tid_of(docs[0]))
    assert (asked["status"], asked["status_reason_code"]) == ("held", "buyer_message")
    r = await gw.post(f"/api/order/orders/{asked['order_id']}/release", json={"reason": "called: fine"})
    assert r.status_code == 200, r.text
    asked = await wait_status(gw, tid_of(docs[0]), {"allocated", "exception", "backorder"}, timeout=60)
    assert asked["status"] == "allocated", asked.get("status_reason")
    assert [len(await tasks_of(gw, o["order_id"])) for o in (asked, quiet)] == [1, 1]
    held = await stock(gw, "WH-HZ", sku["code"])
    assert held["reserved"] == 3, held  # each trade holds its own reservation, nothing more


async def test_a_merged_order_ships_once_and_is_written_back_and_booked_per_platform_order(
    gw, merging, e2e_stack
):
    sku = await new_sku(gw, {"WH-HZ": 10})
    docs = two_trades(sku, f"e2e-buyer-{uuid.uuid4().hex[:10]}")
    for d in docs:
        assert (await send(gw, d)).status_code == 202
    m, sources = await merged_of(gw, docs)
    order = await wait_status(gw, m["trade"]["channel_order_id"], {"allocated", "exception", "backorder"})
    assert order["status"] == "allocated", order.get("status_reason")
    (task,) = await tasks_of(gw, m["order_id"])  # one parcel for both trades
    waybill = f"SF{uuid.uuid4().hex[:10].upper()}"
    url = f"/api/fulfillment/tasks/{task['task_id']}"
    assert (await gw.post(f"{url}/accept", json={"staff_id": "e2e"})).status_code == 200
    r = await gw.post(f"{url}/ship", json={"carrier": "SF", "tracking_no": waybill})
    assert r.status_code == 200, r.text

    async with httpx.AsyncClient(base_url=str(e2e_stack["sim"]), timeout=30) as sim:

        async def written_back(tid: str):
            found = (await sim.get("/_sim/taobao/shipments", params={"tid": tid})).json()["shipments"]
            return found or None

        for d in docs:
            (shipped,) = await until(lambda d=d: written_back(tid_of(d)), f"trade {tid_of(d)} written back")
            assert shipped["out_sid"] == waybill

    async def booked(order_id: str):
        r = await gw.get(f"/api/finance/orders/{order_id}/vouchers")
        items = r.json()["items"] if r.status_code == 200 else []
        return items if {v["kind"] for v in items} >= {"sale", "revenue"} else None

    assert {s["order_id"] for s in sources} == {s["order_id"] for s in m["merge"]["sources"]}
    for src in m["merge"]["sources"]:
        vs = await until(lambda src=src: booked(src["order_id"]), f"the vouchers of {src['order_id']}")
        sale = next(v for v in vs if v["kind"] == "sale")
        assert sale["total_cents"] == src["paid_cents"] and "via merged order" in sale["summary"], sale
    assert (await gw.get(f"/api/finance/orders/{m['order_id']}/vouchers")).json()["items"] == []
