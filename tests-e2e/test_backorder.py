"""A backorder, end to end: an order for more stock than exists waits as a backorder (its shortfall listed by
`GET /api/order/backorders`, not an exception); stock is received; inventory's stock-changed event re-sources
it by itself (no operator), fulfillment sources it again against the stock of the day, and it ends allocated,
with its reservation and its task, and leaves the backorder list."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from helpers import (
    new_sku,
    order_of,
    reservations,
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

ADMIN = "dev-admin-key"
NODE = "WH-HZ"


async def test_a_backorder_is_re_sourced_by_a_receipt_and_allocated(gw):
    sku = await new_sku(gw, {NODE: 2})
    doc = trade([sku_line(sku, 5)], address=0)
    assert (await send(gw, doc)).status_code == 202
    waiting = await wait_status(gw, tid_of(doc), {"backorder", "exception", "allocated"})
    assert (waiting["status"], waiting["status_reason_code"]) == ("backorder", "backorder"), waiting
    order_id = waiting["order_id"]
    assert not await tasks_of(gw, order_id) and not await reservations(gw, order_id)
    listed = (await gw.get("/api/order/backorders", params={"material_code": sku["code"]})).json()
    (entry,) = listed["items"]
    assert entry["order_id"] == order_id and entry["times"] == 1
    assert entry["shortfall"] == [
        {"material_code": sku["code"], "requested": 5, "available": 2, "missing": 3}
    ], entry

    # Operations receive stock at the node; nobody touches the order.
    receipt = {
        "receipt_id": f"e2e-backorder-{uuid.uuid4().hex[:8]}",
        "node_code": NODE,
        "lines": [{"material_code": sku["code"], "qty": 5}],
    }
    r = await gw.post("/api/inventory/receipts", json=receipt)
    assert r.status_code == 201, r.text

    async def settled() -> dict | None:
        o = await order_of(gw, tid_of(doc))
        return o if o and o["status"] in {"allocated", "exception", "cancelled", "held"} else None

    final = await until(settled, f"order {order_id} to be re-sourced by the receipt", timeout=90)
    assert final["status"] == "allocated", (final["status"], final.get("status_reason"))
    steps = [h["to_status"] for h in final["history"]]
    assert steps.count("backorder") == 1 and steps[-1] == "allocated", steps
    assert "exception" not in steps, steps
    after = (await gw.get("/api/order/backorders", params={"material_code": sku["code"]})).json()
    assert after["total"] == 0, after

    # Sourcing started again at the next attempt number, with no node excluded, and was reserved at once.
    sourcing = (await gw.get(f"/api/fulfillment/sourcing/{order_id}")).json()
    assert (sourcing["status"], sourcing["attempt"], sourcing["excluded_nodes"]) == ("allocated", 2, [])
    reservation_id = f"{order_id}:2:{NODE}"

    # One reservation, held for the whole order at the node; one task on it.
    (held_res,) = await reservations(gw, order_id)
    assert (held_res["reservation_id"], held_res["node_code"], held_res["status"]) == (
        reservation_id,
        NODE,
        "reserved",
    )
    assert [(x["material_code"], x["qty"]) for x in held_res["lines"]] == [(sku["code"], 5)]
    (task,) = await tasks_of(gw, order_id)
    assert (task["node_code"], task["status"], task["kind"], task["reservation_id"]) == (
        NODE,
        "assigned",
        "ship",
        reservation_id,
    )
    assert [(x["material_code"], x["qty"]) for x in task["lines"]] == [(sku["code"], 5)]
    at_node = await stock(gw, NODE, sku["code"])
    assert (at_node["on_hand"], at_node["reserved"], at_node["available"]) == (7, 5, 2)
