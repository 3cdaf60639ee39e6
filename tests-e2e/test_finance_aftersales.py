"""Finance books after-sales end to end on Tmall, every service its own process: a shipped order of 2 units
(¥100.00 each, freight ¥8.00) is refunded one unit after shipment by the platform (仅退款: WAIT_SELLER_AGREE,
then SUCCESS) and compensated ¥5.00 by an operator; finance reverses the unit's recognised revenue against
the platform's wallet (Dr 6001 / Cr 1122) and books the compensation as a sales expense (Dr 660101 /
Cr 1122), each voucher naming its case and event, read through finance's REST API by finance staff."""

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
FINANCE = {"X-API-Key": "dev-finance-key"}  # finance staff read the books
STORE = {"X-API-Key": "dev-store-sh01-key"}
UNIT, FREIGHT = 10_000, 800


async def platform_refund(gw, doc: dict, refund_id: str, status: str, fee: str) -> None:
    t = doc["trade_fullinfo_get_response"]["trade"]
    oid = t["orders"]["order"][0]["oid_str"]
    body = TMALL_REFUND | {"refund_id": refund_id, "tid": t["tid_str"], "oid": oid, "status": status,
                           "refund_fee": fee, "num": 1}  # fmt: skip
    q, raw = signed_tmall(SHOP, body, SEEDED["app_key"], SEEDED["secret"], datetime.now(UTC))
    r = await gw.post(
        "/channels/tmall/refunds", params=q, content=raw, headers={"content-type": "application/json"}
    )
    assert r.status_code == 202, r.text


async def finance_vouchers(gw, order_id: str, kinds: set[str]) -> dict[str, dict]:
    async def booked():
        r = await gw.get(f"/api/finance/orders/{order_id}/vouchers", headers=FINANCE)
        items = r.json()["items"] if r.status_code == 200 else []
        return {v["kind"]: v for v in items} if {v["kind"] for v in items} >= kinds else None

    return await until(booked, f"finance's {sorted(kinds)} vouchers of {order_id}")


def lines(voucher: dict) -> list[tuple[str, int, int]]:
    return [(x["account_code"], x["debit_cents"], x["credit_cents"]) for x in voucher["lines"]]


async def test_a_refund_after_shipment_and_a_compensation_are_booked_by_finance(gw):
    sku = await new_sku(gw, {NODE: 3}, price_cents=UNIT)
    doc = trade([sku_line(sku, 2)], post_fee_cents=FREIGHT)
    assert (await send(gw, doc)).status_code == 202
    order = await wait_status(gw, tid_of(doc), {"allocated", "exception", "backorder"})
    assert order["status"] == "allocated", order.get("status_reason")
    oid, paid = order["order_id"], order["money"]["paid_cents"]
    assert (paid, order["money"]["post_fee_cents"]) == (2 * UNIT + FREIGHT, FREIGHT)
    (task,) = await tasks_of(gw, oid)
    url = f"/api/fulfillment/tasks/{task['task_id']}"
    assert (await gw.post(f"{url}/accept", json={"staff_id": "e2e"})).status_code == 200
    r = await gw.post(f"{url}/ship", json={"carrier": "SF", "tracking_no": f"SFF{tid_of(doc)[-8:]}"})
    assert r.status_code == 200, r.text
    await wait_status(gw, tid_of(doc), {"shipped", "completed"})
    await finance_vouchers(gw, oid, {"sale", "revenue"})  # the goods left: revenue recognised first

    # the platform refunds one unit after shipment (refund only): the OMS approves it, finance books it
    refund_id = str(uuid.uuid4().int % 10**12)
    await platform_refund(gw, doc, refund_id, "WAIT_SELLER_AGREE", "100.00")
    await platform_refund(gw, doc, refund_id, "SUCCESS", "100.00")

    async def refunded():
        r = await gw.get("/api/order/after-sales", params={"order_id": oid})
        done = [c for c in r.json()["items"] if c["money_done"]] if r.status_code == 200 else []
        return done[0] if done else None

    case = await until(refunded, "the refund recorded on its case")
    assert (case["kind"], case["refund_cents"]) == ("refund_after_shipment", UNIT), case
    # an operator compensates the buyer ¥5.00 (money only)
    body = {"kind": "compensation", "reason": "parcel late", "amount_cents": 500}
    r = await gw.post(f"/api/order/orders/{oid}/after-sales", json=body)
    assert r.status_code == 201 and r.json()["money_done"] is True, r.text
    compensation_case = r.json()["case_id"]

    books = await finance_vouchers(gw, oid, {"sale", "revenue", "refund", "compensation"})
    refund, comp = books["refund"], books["compensation"]
    assert lines(refund) == [("6001", UNIT, 0), ("1122", 0, UNIT)]  # the unit's revenue, out of the wallet
    assert refund["source_event_type"] == "order.refund-approved" and case["case_id"] in refund["summary"]
    assert refund["reverses_voucher_id"] == books["sale"]["voucher_id"]
    assert lines(comp) == [("660101", 500, 0), ("1122", 0, 500)]  # a sales expense
    assert comp["source_event_type"] == "order.compensation-granted" and compensation_case in comp["summary"]
    r = await gw.get(f"/api/finance/vouchers/{refund['voucher_id']}", headers=FINANCE)
    assert r.status_code == 200 and r.json()["source_event_id"] == refund["source_event_id"]

    r = await gw.get("/api/finance/trial-balance", params={"order_id": oid}, headers=FINANCE)
    tb = r.json()
    assert r.status_code == 200 and tb["balanced"] is True
    moved = {a["account_code"]: a["balance_cents"] for a in tb["accounts"] if a["balance_cents"]}
    assert moved == {"1122": paid - UNIT - 500, "6001": 2 * UNIT - UNIT, "6051": FREIGHT, "660101": 500}

    # the receivables ledger is a finance route like the others: finance staff read it, store staff may not
    r = await gw.get("/api/finance/receivables", params={"credit_account": f"tmall:{oid}"}, headers=FINANCE)
    assert r.status_code == 200 and r.json()["total"] == 0
    assert (await gw.get("/api/finance/receivables", headers=STORE)).status_code == 403
