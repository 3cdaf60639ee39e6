"""A return and refund (退货退款) end to end on Tmall, every service its own process: a shipped order's buyer
asks for a return of 2 units; the platform agrees; the order service expects the return at the node that
shipped it; the warehouse receives it and inspects 1 good and 1 defective unit; inventory puts the good one
back into sellable stock and the defective one into defective stock (not sellable); the platform's refund
closes the case."""

from __future__ import annotations

import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from helpers import SHOP, new_sku, send, sku_line, stock, tasks_of, tid_of, trade, until, wait_status

from omni_tools.catalog import SHOP as SEEDED
from omni_tools.platform_refunds import TMALL_REFUND, signed_tmall

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]
NODE = "WH-HZ"


async def refund(gw, doc: dict, refund_id: str, status: str, fee: str) -> None:
    t = doc["trade_fullinfo_get_response"]["trade"]
    oid = t["orders"]["order"][0]["oid_str"]
    body = TMALL_REFUND | {"refund_id": refund_id, "tid": t["tid_str"], "oid": oid, "status": status,
                           "refund_fee": fee, "has_good_return": True, "num": 2}  # fmt: skip
    q, raw = signed_tmall(SHOP, body, SEEDED["app_key"], SEEDED["secret"], datetime.now(UTC))
    r = await gw.post(
        "/channels/tmall/refunds", params=q, content=raw, headers={"content-type": "application/json"}
    )
    assert r.status_code == 202, r.text


async def test_a_return_restocks_the_good_unit_and_books_the_defective_one(gw):
    sku = await new_sku(gw, {NODE: 5})
    doc = trade([sku_line(sku, 2)])
    assert (await send(gw, doc)).status_code == 202
    order = await wait_status(gw, tid_of(doc), {"allocated", "exception", "backorder"})
    assert order["status"] == "allocated", order.get("status_reason")
    (task,) = await tasks_of(gw, order["order_id"])
    url = f"/api/fulfillment/tasks/{task['task_id']}"
    assert (await gw.post(f"{url}/accept", json={"staff_id": "e2e"})).status_code == 200
    assert (
        await gw.post(f"{url}/ship", json={"carrier": "SF", "tracking_no": f"SFR{tid_of(doc)[-8:]}"})
    ).status_code == 200
    await wait_status(gw, tid_of(doc), {"shipped", "completed"})

    async def left():
        s = await stock(gw, NODE, sku["code"])
        return s if s["on_hand"] == 3 and s["reserved"] == 0 else None

    await until(left, "the shipment consumed from stock")

    refund_id = str(uuid.uuid4().int % 10**12)
    await refund(gw, doc, refund_id, "WAIT_SELLER_AGREE", "200.00")
    await refund(
        gw, doc, refund_id, "WAIT_BUYER_RETURN_GOODS", "200.00"
    )  # the seller agreed: goods come back

    async def expected():
        r = await gw.get("/api/order/after-sales", params={"order_id": order["order_id"]})
        items = r.json()["items"]
        return items[0] if items and items[0]["node_code"] else None

    case = await until(expected, "the return expected at its node")
    assert (case["kind"], case["node_code"]) == ("return_and_refund", NODE), case
    line_id = (await gw.get(f"/api/order/after-sales/{case['case_id']}")).json()["lines"][0]["line_id"]
    body = {"lines": [{"line_id": line_id, "good_qty": 1, "defective_qty": 1}]}
    r = await gw.post(f"/api/order/after-sales/{case['case_id']}/receive", json=body)
    assert r.status_code == 200, r.text

    async def restocked():
        r = await gw.get(f"/api/inventory/stock/{NODE}/{sku['code']}/quality")
        s = r.json() if r.status_code == 200 else {}
        return s if s.get("on_hand") == 4 and s.get("defective") == 1 else None

    states = await until(restocked, "the good unit back in stock and the defective one booked")
    assert states["available"] == 4 and states["total"] == 5  # the defective unit is not sellable
    await refund(gw, doc, refund_id, "SUCCESS", "200.00")

    async def refunded():
        c = (await gw.get(f"/api/order/after-sales/{case['case_id']}")).json()
        return c if c["money_done"] else None

    done = await until(refunded, "the refund recorded on the case")
    assert done["refund_cents"] == 20_000
