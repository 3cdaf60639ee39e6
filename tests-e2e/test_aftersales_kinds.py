"""After-sales kinds end to end on Tmall with their stock effects, every service its own process (the return
and refund is tests-e2e/test_returns.py):

- a whole refund before shipment intercepts the order: its task is cancelled and the reservation released;
- an exchange: the old unit comes back (restocked when good) and a new outbound order of 0 paid is allocated;
- a reship of a lost parcel: a new order of 0 paid, allocated (the goods are reserved again);
- a repair: the goods come back and go out again, never restocked (they are the buyer's);
- a compensation: money only, nothing moves.
"""

from __future__ import annotations

import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from helpers import SHOP, new_sku, send, sku_line, tasks_of, tid_of, trade, until, wait_status

from omni_tools.catalog import SHOP as SEEDED
from omni_tools.platform_refunds import TMALL_REFUND, signed_tmall

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]
NODE = "WH-HZ"


async def platform_refund(gw, doc: dict, refund_id: str, status: str, fee: str, **extra) -> None:
    t = doc["trade_fullinfo_get_response"]["trade"]
    oid = t["orders"]["order"][0]["oid_str"]
    body = TMALL_REFUND | {"refund_id": refund_id, "tid": t["tid_str"], "oid": oid, "status": status,
                           "refund_fee": fee, "num": 1} | extra  # fmt: skip
    q, raw = signed_tmall(SHOP, body, SEEDED["app_key"], SEEDED["secret"], datetime.now(UTC))
    r = await gw.post(
        "/channels/tmall/refunds", params=q, content=raw, headers={"content-type": "application/json"}
    )
    assert r.status_code == 202, r.text


async def allocated(gw, sku: dict, qty: int = 1) -> tuple[dict, dict]:
    doc = trade([sku_line(sku, qty)])
    assert (await send(gw, doc)).status_code == 202
    order = await wait_status(gw, tid_of(doc), {"allocated", "exception", "backorder"})
    assert order["status"] == "allocated", order.get("status_reason")
    return doc, order


async def shipped(gw, sku: dict) -> tuple[dict, dict]:
    doc, order = await allocated(gw, sku)
    (task,) = await tasks_of(gw, order["order_id"])
    url = f"/api/fulfillment/tasks/{task['task_id']}"
    assert (await gw.post(f"{url}/accept", json={"staff_id": "e2e"})).status_code == 200
    r = await gw.post(f"{url}/ship", json={"carrier": "SF", "tracking_no": f"SFK{tid_of(doc)[-8:]}"})
    assert r.status_code == 200, r.text
    return doc, await wait_status(gw, tid_of(doc), {"shipped", "completed"})


async def levels(gw, sku: dict, **want: int) -> dict:
    async def reached():
        r = await gw.get(f"/api/inventory/stock/{NODE}/{sku['code']}/quality")
        s = r.json() if r.status_code == 200 else {}
        return s if all(s.get(k) == v for k, v in want.items()) else None

    return await until(reached, f"{sku['code']} at {NODE}: {want}")


async def case_of(gw, order_id: str, kind: str, done=lambda c: True) -> dict:
    async def found():
        r = await gw.get("/api/order/after-sales", params={"order_id": order_id, "kind": kind})
        items = [c for c in r.json()["items"] if done(c)] if r.status_code == 200 else []
        return items[0] if items else None

    return await until(found, f"the {kind} case of {order_id}")


async def test_a_whole_refund_before_shipment_intercepts_and_releases_the_stock(gw):
    sku = await new_sku(gw, {NODE: 3})
    doc, _ = await allocated(gw, sku)
    await levels(gw, sku, on_hand=3, reserved=1)
    await platform_refund(gw, doc, str(uuid.uuid4().int % 10**12), "SUCCESS", "100.00")
    cancelled = await wait_status(gw, tid_of(doc), {"cancelled"})
    assert cancelled["status_reason_code"] == "refunded", cancelled["status_reason"]
    await levels(gw, sku, on_hand=3, reserved=0, available=3)  # nothing left, nothing held


async def test_an_exchange_restocks_the_old_unit_and_allocates_a_new_one(gw):
    sku = await new_sku(gw, {NODE: 3})
    doc, order = await shipped(gw, sku)
    await levels(gw, sku, on_hand=2, reserved=0)
    refund_id = str(uuid.uuid4().int % 10**12)
    await platform_refund(gw, doc, refund_id, "WAIT_BUYER_RETURN_GOODS", "0.00", bill_type="replace_bill")
    case = await case_of(gw, order["order_id"], "exchange", lambda c: c["node_code"] == NODE)
    line_id = (await gw.get(f"/api/order/after-sales/{case['case_id']}")).json()["lines"][0]["line_id"]
    r = await gw.post(f"/api/order/after-sales/{case['case_id']}/receive",
                      json={"lines": [{"line_id": line_id, "good_qty": 1, "defective_qty": 0}]})  # fmt: skip
    assert r.status_code == 200, r.text
    new_id = r.json()["outbound_order_id"]
    assert new_id and r.json()["state"] == "exchanged"
    new = await until(
        lambda: _status(gw, new_id, "allocated"), f"the exchange's new order {new_id} allocated"
    )
    assert new["money"]["paid_cents"] == 0
    await levels(gw, sku, on_hand=3, reserved=1)  # the old unit back in, the new one held for the buyer


async def test_a_reship_sends_the_goods_again_and_a_compensation_moves_nothing(gw):
    sku = await new_sku(gw, {NODE: 3})
    _, order = await shipped(gw, sku)
    await levels(gw, sku, on_hand=2, reserved=0)
    r = await gw.post(f"/api/order/orders/{order['order_id']}/after-sales",
                      json={"kind": "reship", "reason": "parcel lost by the carrier"})  # fmt: skip
    assert r.status_code == 201, r.text
    new_id = r.json()["outbound_order_id"]
    await until(lambda: _status(gw, new_id, "allocated"), f"the reship {new_id} allocated")
    await levels(gw, sku, on_hand=2, reserved=1)
    r = await gw.post(f"/api/order/orders/{order['order_id']}/after-sales",
                      json={"kind": "compensation", "reason": "late", "amount_cents": 500})  # fmt: skip
    assert r.status_code == 201 and r.json()["money_done"] is True, r.text
    await levels(gw, sku, on_hand=2, reserved=1)


async def test_a_repair_comes_back_and_is_never_restocked(gw):
    sku = await new_sku(gw, {NODE: 3})
    _, order = await shipped(gw, sku)
    r = await gw.post(f"/api/order/orders/{order['order_id']}/after-sales",
                      json={"kind": "repair", "reason": "it leaks"})  # fmt: skip
    assert r.status_code == 201, r.text
    case = r.json()
    assert case["node_code"] == NODE, case
    body = {"lines": [{"line_id": case["lines"][0]["line_id"], "good_qty": 0, "defective_qty": 1}]}
    r = await gw.post(f"/api/order/after-sales/{case['case_id']}/receive", json=body)
    assert r.status_code == 200, r.text
    r = await gw.post(f"/api/order/after-sales/{case['case_id']}/complete")
    assert r.status_code == 200 and r.json()["state"] == "completed", r.text
    states = await levels(gw, sku, on_hand=2, reserved=0)
    assert states["defective"] == 0  # the buyer's machine: never the node's stock


async def _status(gw, order_id: str, status: str) -> dict | None:
    r = await gw.get(f"/api/order/orders/{order_id}")
    return r.json() if r.status_code == 200 and r.json()["status"] == status else None
