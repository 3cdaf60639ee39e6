"""An operator's retry, end to end: an order for more stock than exists ends in exception (unfulfillable);
stock is received; `POST /api/order/orders/{id}/retry` re-sends its acceptance, fulfillment sources it again
against the stock of the day, and it ends allocated, with its reservation and its task."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import httpx
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

from omni_tools.waits import wait_for_stock

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

ADMIN = "dev-admin-key"
NODE = "WH-HZ"


@pytest.fixture
async def gw(e2e_stack):
    async with httpx.AsyncClient(
        base_url=e2e_stack["gateway"], headers={"X-API-Key": ADMIN}, timeout=30
    ) as c:
        yield c


async def test_a_retried_order_is_allocated_once_new_stock_has_arrived(gw):
    sku = await new_sku(gw, {NODE: 2})
    doc = trade([sku_line(sku, 5)], address=0)
    assert (await send(gw, doc)).status_code == 202
    held = await wait_status(gw, tid_of(doc), {"exception", "allocated"})
    assert (held["status"], held["status_reason_code"]) == ("exception", "unfulfillable"), held
    order_id = held["order_id"]
    assert not await tasks_of(gw, order_id) and not await reservations(gw, order_id)

    # Operations receive stock at the node, and fulfillment's projection learns it.
    receipt = {
        "receipt_id": f"e2e-retry-{uuid.uuid4().hex[:8]}",
        "node_code": NODE,
        "lines": [{"material_code": sku["code"], "qty": 5}],
    }
    r = await gw.post("/api/inventory/receipts", json=receipt)
    assert r.status_code == 201, r.text
    await wait_for_stock(gw, NODE, sku["code"], 7)

    r = await gw.post(f"/api/order/orders/{order_id}/retry")
    assert r.status_code == 200, r.text
    assert r.json()["status"] in {"accepted", "sourcing", "allocated"}, r.json()["status"]

    async def settled() -> dict | None:
        o = await order_of(gw, tid_of(doc))
        return o if o and o["status"] in {"allocated", "exception", "cancelled"} else None

    final = await until(settled, f"order {order_id} to be sourced again after its retry", timeout=90)
    assert final["status"] == "allocated", (final["status"], final.get("status_reason"))
    steps = [h["to_status"] for h in final["history"]]
    assert steps.count("exception") == 1 and steps[-1] == "allocated", steps

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
