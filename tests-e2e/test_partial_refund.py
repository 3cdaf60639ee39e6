"""A partial refund before shipment (部分截单) end to end on Tmall, every service its own process: an order
of two lines is allocated as one task at one node; the platform refunds one line before it ships. That
line's unit is released at the node (available back up by exactly one), the task carries only the other
line, the task ships, the order ends shipped (never partially shipped), and the refund's case shows in its
history what fulfillment held back and where. Finance reverses the refunded line's deferred sale, recognises
the kept line's revenue only, and leaves nothing deferred."""

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

FINANCE = {"X-API-Key": "dev-finance-key"}
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]
NODE = "WH-HZ"


async def refund_line(gw, doc: dict, line: int, fee: str) -> None:
    """The platform refunded one unit of the trade's `line` (0-based) before shipment: SUCCESS."""
    t = doc["trade_fullinfo_get_response"]["trade"]
    oid = t["orders"]["order"][line]["oid_str"]
    body = TMALL_REFUND | {"refund_id": str(uuid.uuid4().int % 10**12), "tid": t["tid_str"], "oid": oid,
                           "status": "SUCCESS", "refund_fee": fee, "num": 1}  # fmt: skip
    q, raw = signed_tmall(SHOP, body, SEEDED["app_key"], SEEDED["secret"], datetime.now(UTC))
    r = await gw.post(
        "/channels/tmall/refunds", params=q, content=raw, headers={"content-type": "application/json"}
    )
    assert r.status_code == 202, r.text


async def level(gw, sku: dict, **want: int) -> dict:
    async def reached():
        s = await stock(gw, NODE, sku["code"])
        return s if all(s.get(k) == v for k, v in want.items()) else None

    return await until(reached, f"{sku['code']} at {NODE}: {want}")


async def test_a_partial_refund_before_shipment_holds_back_its_line_and_the_rest_ships(gw):
    kept, refunded = await new_sku(gw, {NODE: 3}), await new_sku(gw, {NODE: 3})
    doc = trade([sku_line(kept, 1), sku_line(refunded, 1)])
    assert (await send(gw, doc)).status_code == 202
    order = await wait_status(gw, tid_of(doc), {"allocated", "exception", "backorder"})
    assert order["status"] == "allocated", order.get("status_reason")
    (task,) = await tasks_of(gw, order["order_id"])
    assert sorted((x["material_code"], x["qty"]) for x in task["lines"]) == sorted(
        [(kept["code"], 1), (refunded["code"], 1)]
    )
    before = await level(gw, refunded, on_hand=3, reserved=1, available=2)

    await refund_line(gw, doc, 1, "100.00")
    after = await level(gw, refunded, on_hand=3, reserved=0)
    assert after["available"] == before["available"] + 1  # exactly the refunded unit back
    await level(gw, kept, on_hand=3, reserved=1, available=2)  # the other line still held

    async def task_cut():
        (t,) = await tasks_of(gw, order["order_id"])
        return t if [(x["material_code"], x["qty"]) for x in t["lines"]] == [(kept["code"], 1)] else None

    task = await until(task_cut, "the task to carry only the line that was not refunded")
    assert task["status"] == "assigned"
    url = f"/api/fulfillment/tasks/{task['task_id']}"
    assert (await gw.post(f"{url}/accept", json={"staff_id": "e2e"})).status_code == 200
    r = await gw.post(f"{url}/ship", json={"carrier": "SF", "tracking_no": f"SFP{tid_of(doc)[-8:]}"})
    assert r.status_code == 200, r.text

    done = await wait_status(gw, tid_of(doc), {"shipped", "completed"})
    r = await gw.get(f"/api/order/orders/{done['order_id']}")
    assert r.status_code == 200, r.text
    assert "partially_shipped" not in [h["to_status"] for h in r.json()["history"]]
    await level(gw, kept, on_hand=2, reserved=0, available=2)  # shipped
    await level(gw, refunded, on_hand=3, reserved=0, available=3)  # never shipped

    r = await gw.get(
        "/api/order/after-sales", params={"order_id": order["order_id"], "kind": "refund_before_shipment"}
    )
    assert r.status_code == 200, r.text
    (case,) = r.json()["items"]
    detail = (await gw.get(f"/api/order/after-sales/{case['case_id']}")).json()
    assert (detail["state"], detail["money_done"]) == ("refunded", True)
    (note,) = [h["note"] for h in detail["history"] if h["source"] == "fulfillment"]
    assert note.startswith("fulfillment held back before shipment: 1 × " + refunded["code"]), note
    assert f"at {NODE}, off task {task['task_id']}" in note and "not held back" not in note

    # finance: the refund reverses the refunded line's deferred sale (it never ships), the revenue is the
    # kept line's only, and nothing stays deferred
    async def books() -> dict | None:
        r = await gw.get(f"/api/finance/orders/{order['order_id']}/vouchers", headers=FINANCE)
        kinds = {v["kind"]: v for v in r.json()["items"]} if r.status_code == 200 else {}
        return kinds if {"sale", "refund", "revenue"} <= set(kinds) else None

    vouchers = await until(books, "finance's sale, refund and revenue vouchers")
    refund = [(x["account_code"], x["debit_cents"], x["credit_cents"]) for x in vouchers["refund"]["lines"]]
    assert refund == [("2205", 10_000, 0), ("1122", 0, 10_000)], refund
    r = await gw.get("/api/finance/trial-balance", params={"order_id": order["order_id"]}, headers=FINANCE)
    tb = r.json()
    assert r.status_code == 200 and tb["balanced"] is True
    moved = {a["account_code"]: a["balance_cents"] for a in tb["accounts"] if a["balance_cents"]}
    assert moved.get("1122") == order["money"]["paid_cents"] - 10_000, moved
    assert "2205" not in moved and "2206" not in moved, moved
