"""Gifts end to end: a rule set gives a gift (its own material, in stock) to orders whose buyer message
carries this test's token, capped at one per buyer. The first order of the buyer gets the 0-paid gift line,
fulfillment allocates it with the goods (the task carries it); the buyer's second order gets none and its
trace says the cap was reached. The strategy is disabled at the end (the stack is shared)."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from helpers import new_sku, send, sku_line, tasks_of, tid_of, trade, wait_status

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]


def with_buyer(doc: dict, buyer: str, message: str) -> dict:
    t = doc["trade_fullinfo_get_response"]["trade"]
    t.update(buyer_open_uid=buyer, buyer_nick=buyer, buyer_message=message)
    return doc


async def test_a_gift_is_added_allocated_and_its_per_buyer_cap_reached(gw):
    goods = await new_sku(gw, {"WH-HZ": 10})
    mug = await new_sku(gw, {"WH-HZ": 10})
    token = f"gift-{uuid.uuid4().hex[:10]}"
    gift_id = f"mug-{token}"
    ruleset = {
        "name": "e2e gifts",
        "rules": [{
            "id": "token-gift", "name": "a mug for the token's orders",
            "when": {"type": "message", "contains": [token]},
            "then": [{"type": "add_gift", "gift_id": gift_id, "material_code": mug["code"],
                      "caps": {"per_buyer": 1}}],
        }],
    }  # fmt: skip
    r = await gw.put(f"/api/order/rulesets/{token}", json=ruleset)
    assert r.status_code == 200, r.text
    strategy = {"name": "e2e gifts", "match": {"channels": ["tmall"]}, "ruleset_id": token, "priority": 900}
    r = await gw.put(f"/api/order/strategies/{token}", json=strategy)
    assert r.status_code == 200, r.text
    try:
        buyer = f"buyer-{token}"
        first = with_buyer(trade([sku_line(goods, 1)]), buyer, f"please {token}")
        assert (await send(gw, first)).status_code == 202
        order = await wait_status(gw, tid_of(first), {"allocated", "exception", "backorder", "held"})
        assert order["status"] == "allocated", (order["status"], order.get("status_reason"))
        gifts = [x for x in order["goods"]["lines"] if x["gift_id"]]
        assert [(x["material_code"], x["qty"], x["amount_cents"]) for x in gifts] == [(mug["code"], 1, 0)]
        (task,) = await tasks_of(gw, order["order_id"])
        assert sorted((x["material_code"], x["qty"]) for x in task["lines"]) == sorted(
            [(goods["code"], 1), (mug["code"], 1)]
        )
        granted = (await gw.get(f"/api/order/orders/{order['order_id']}/gifts")).json()
        assert [(g["gift_id"], g["rule"].split(" (")[0]) for g in granted] == [(gift_id, "rule token-gift")]

        second = with_buyer(trade([sku_line(goods, 1)]), buyer, f"again {token}")
        assert (await send(gw, second)).status_code == 202
        again = await wait_status(gw, tid_of(second), {"allocated", "exception", "backorder", "held"})
        assert again["status"] == "allocated" and not [x for x in again["goods"]["lines"] if x["gift_id"]]
        trace = (await gw.get(f"/api/order/orders/{again['order_id']}/trace")).json()
        (entry,) = [e for e in trace["decisions"] if e["stage"] == "gifts"]
        assert entry["matched"] is False and "per buyer: 1 of 1 given, 0 left" in entry["why"], entry
    finally:
        r = await gw.put(f"/api/order/strategies/{token}", json={**strategy, "enabled": False})
        assert r.status_code == 200, r.text
