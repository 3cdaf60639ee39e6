"""Store tasks through the gateway, as the staff of STORE-SH-01 work them (issue #11):

- a task rejected out of stock moves at once to another node (never to manual review): the store's stock of
  that material goes to 0, a cycle count is requested, the trace says why, and the order ships from the
  warehouse it moved to; a retried rejection (the same Idempotency-Key) is done once;
- a store pickup: accept, pick by scanning, ready (the buyer is sent the code), a wrong code refused, the
  right one hands it over; another pickup locks after 5 wrong codes, even for the right code.
"""

from __future__ import annotations

import uuid

import pytest
from helpers import new_sku, send, sku_line, stock, tasks_of, tid_of, trade, until, wait_status

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

STORE_NODE, WAREHOUSE = "STORE-SH-01", "WH-HZ"
STAFF = {"X-API-Key": "dev-store-sh01-key"}


def key() -> dict[str, str]:
    return {**STAFF, "Idempotency-Key": f"e2e-{uuid.uuid4().hex}"}


async def one_task(gw, order_id: str, node: str, status: str = "assigned") -> dict:
    async def found():
        return next(
            (t for t in await tasks_of(gw, order_id) if t["node_code"] == node and t["status"] == status),
            None,
        )

    return await until(found, f"a {status} task of {order_id} at {node}")


async def test_a_task_rejected_out_of_stock_moves_to_another_node_and_ships_from_there(gw):
    sku = await new_sku(gw, {STORE_NODE: 3, WAREHOUSE: 5})
    doc = trade([sku_line(sku, 2)], address=1)  # Shanghai: the store is nearest
    assert (await send(gw, doc)).status_code == 202
    order = await wait_status(gw, tid_of(doc), {"allocated", "exception", "backorder"})
    assert order["status"] == "allocated", order.get("status_reason")
    oid = order["order_id"]
    task = await one_task(gw, oid, STORE_NODE)
    reasons = (await gw.get("/api/fulfillment/reject-reasons", headers=STAFF)).json()
    assert {"out_of_stock", "too_busy"} <= {r["code"] for r in reasons}

    url, retry = f"/api/fulfillment/tasks/{task['task_id']}", key()
    for _ in range(2):  # the first answer was lost: the store's page retries with the same id
        r = await gw.post(f"{url}/reject", json={"reason_code": "out_of_stock"}, headers=retry)
        assert r.status_code == 200 and r.json()["status"] == "rejected", r.text
    moved = await one_task(gw, oid, WAREHOUSE)
    assert [t["node_code"] for t in await tasks_of(gw, oid)].count(WAREHOUSE) == 1, "rejected once"

    async def zeroed():
        s = await stock(gw, STORE_NODE, sku["code"])
        return s if s["available"] == 0 else None

    s = await until(zeroed, f"the store's {sku['code']} to go to 0")
    assert (s["on_hand"], s["reserved"]) == (0, 0)
    counts = (await gw.get("/api/fulfillment/count-requests", headers=STAFF)).json()["items"]
    assert sku["code"] in {c["material_code"] for c in counts}

    async def traced():
        r = await gw.get(f"/api/order/orders/{oid}/trace")
        rows = [
            d for d in r.json()["decisions"] if d["stage"] == "sourcing" and "(attempt 2)" in d["subject"]
        ]
        return rows or None

    rows = {d["subject"]: d for d in await until(traced, "the re-source in the order's trace")}
    kept_out = rows[f"node {STORE_NODE} (attempt 2)"]
    assert kept_out["effect"] == "excluded" and "rejected the task (out_of_stock" in kept_out["why"]
    assert rows[f"node {WAREHOUSE} (attempt 2)"]["matched"] is True
    o = await wait_status(gw, tid_of(doc), {"allocated"})
    assert o["status"] == "allocated", "the order never went back to review"

    wh = f"/api/fulfillment/tasks/{moved['task_id']}"
    assert (await gw.post(f"{wh}/accept", json={"staff_id": "wh-1"})).status_code == 200
    r = await gw.post(f"{wh}/ship", json={"carrier": "SF", "tracking_no": f"SFR{tid_of(doc)[-8:]}"})
    assert r.status_code == 200, r.text
    done = await wait_status(gw, tid_of(doc), {"shipped", "completed"})
    nodes = {a["node_code"] for ln in done["stock"]["lines"] for a in ln["allocations"]}
    assert nodes == {WAREHOUSE}, "the OMS's allocation followed the move"


def pickup_trade(sku: dict, qty: int = 1) -> dict:
    doc = trade([sku_line(sku, qty)], address=1)
    doc["trade_fullinfo_get_response"]["trade"].update(
        o2o_delivery="inshop", rt_omni_outer_store_id=STORE_NODE
    )
    return doc


async def ready_pickup(gw, sku: dict) -> tuple[dict, str, str]:
    """A pickup order at the store, accepted, picked by scanning and ready: (doc, task id, code)."""
    doc = pickup_trade(sku)
    assert (await send(gw, doc)).status_code == 202
    order = await wait_status(gw, tid_of(doc), {"allocated", "exception", "backorder"})
    assert order["status"] == "allocated", order.get("status_reason")
    task = await one_task(gw, order["order_id"], STORE_NODE)
    assert task["kind"] == "pickup" and task["pickup_code"] is not None, "operations see the code"
    url = f"/api/fulfillment/tasks/{task['task_id']}"
    mine = (await gw.get(url, headers=STAFF)).json()
    assert mine["pickup_code"] is None and mine["sla"]["kind"] == "accept", "staff never see it"
    assert (await gw.post(f"{url}/accept", json={"staff_id": "s1"}, headers=key())).status_code == 200
    r = await gw.post(f"{url}/pick", json={"scanned_code": sku["code"]}, headers=key())
    assert r.status_code == 200 and r.json()["status"] == "picking", r.text
    r = await gw.post(f"{url}/ready", json={}, headers=key())
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["code_sent"], r.json()["sla"]["kind"]) == (
        "ready_for_pickup",
        1,
        "pickup_hold",
    )
    return doc, task["task_id"], task["pickup_code"]


async def test_a_pickup_is_handed_over_with_the_right_code_and_a_wrong_one_is_refused(gw):
    sku = await new_sku(gw, {STORE_NODE: 2})
    doc, tid, code = await ready_pickup(gw, sku)
    url = f"/api/fulfillment/tasks/{tid}"
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    r = await gw.post(f"{url}/pickup", json={"pickup_code": wrong}, headers=key())
    assert r.status_code == 422 and "does not match" in r.text
    r = await gw.post(f"{url}/pickup", json={"pickup_code": code}, headers=key())
    assert r.status_code == 200 and r.json()["status"] == "picked_up", r.text
    done = await wait_status(gw, tid_of(doc), {"shipped", "completed"})
    assert done["status"] in ("shipped", "completed")


async def test_five_wrong_codes_lock_the_pickup_even_for_the_right_one(gw):
    sku = await new_sku(gw, {STORE_NODE: 2})
    doc, tid, code = await ready_pickup(gw, sku)
    url = f"/api/fulfillment/tasks/{tid}"
    wrong = f"{(int(code) + 7) % 1_000_000:06d}"
    for i in range(5):
        r = await gw.post(f"{url}/pickup", json={"pickup_code": wrong}, headers=key())
        assert r.status_code == 422, (i, r.text)
    r = await gw.post(f"{url}/pickup", json={"pickup_code": code}, headers=key())
    assert r.status_code == 423 and "locked" in r.text, r.text
    task = (await gw.get(url, headers=STAFF)).json()
    assert task["status"] == "ready_for_pickup" and task["locked_until"] and "handover" not in task["actions"]
    r = await gw.post(f"{url}/resend-code", json={}, headers=key())
    assert r.status_code == 200 and r.json()["code_sent"] == 2, "the buyer can still be sent the code again"
    assert (await wait_status(gw, tid_of(doc), {"allocated"}))["status"] == "allocated"
