"""B2B credit terms (账期) end to end, every service its own process: a 1688 shop that accepts orders on
account; a B2B strategy gives its buyers a credit limit of 1.5 orders. The SIMULATOR pushes two 1688 orders
on account (trade type `period`, no pay time) of the same buyer: the first is counted and allocated (the
trace has the numbers), the second is over the limit and held `credit_limit` with them. Finance records
the first one's payment through REST: the buyer's account owes nothing, and finance's receivable for it
(112201, per credit account) is cleared. An operator releases the second: it is counted anyway, allocated
and booked as an open receivable. The strategy is disabled at the end (the stack is shared)."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from helpers import alibaba_shop, until, wait_status

from omni_tools.platform_orders import sample_order

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

FIXTURES = Path(__file__).resolve().parents[1] / "services/channel/tests/fixtures"
APP_KEY, SECRET = "e2e-credit-app-key", "e2e-credit-secret-0123"
PAID = 329_600  # the sample order's total (totalAmount), owed on account


async def b2b_shop(gw: httpx.AsyncClient, sim: str) -> str:
    return await alibaba_shop(
        gw, sim, prefix="E2E-B2B", app_key=APP_KEY, secret=SECRET, accepts_on_account=True
    )


def on_account_order(buyer: str) -> tuple[dict, str]:
    doc, oid = sample_order(FIXTURES, "alibaba")
    base = doc["result"]["baseInfo"]
    base.update(tradeTypeCode="period", tradeType="10", status="waitsellersend", buyerID=buyer)
    base.pop("payTime", None)
    return doc, oid


async def push(gw: httpx.AsyncClient, sim: str, shop_id: str, doc: dict) -> None:
    r = await gw.post(f"{sim}/_sim/alibaba/push/orders", json={"shop_id": shop_id, "order": doc})
    assert r.status_code == 200 and r.json()["status"] == 202 and r.json()["body"]["accepted"], r.text


async def receivables(gw: httpx.AsyncClient, account: str) -> dict[str, dict]:
    r = await gw.get("/api/finance/receivables", params={"credit_account": account})
    assert r.status_code == 200, r.text
    return {x["order_id"]: x for x in r.json()["items"]}


async def credit_steps(gw: httpx.AsyncClient, order_id: str) -> list[dict]:
    trace = (await gw.get(f"/api/order/orders/{order_id}/trace")).json()
    return [d for d in trace["decisions"] if d["stage"] == "credit"]


async def test_an_order_on_account_within_the_limit_is_allocated_the_next_held_and_a_payment_frees_it(
    gw, e2e_stack
):
    sim = str(e2e_stack["sim"])
    shop_id = await b2b_shop(gw, sim)
    sid = f"e2e-credit-{uuid.uuid4().hex[:6]}"
    strategy = {"name": "e2e wholesale", "priority": 990, "match": {"shops": [f"alibaba:{shop_id}"]},
                "business_model": "B2B",
                "credit": {"limit_cents": PAID + PAID // 2, "terms_days": 30, "on_over": "hold"}}  # fmt: skip
    r = await gw.put(f"/api/order/strategies/{sid}", json=strategy)
    assert r.status_code in (200, 201), r.text
    buyer = f"b2b-{uuid.uuid4().hex[:8]}"
    account = f"alibaba:{buyer}"
    try:
        first_doc, first_tid = on_account_order(buyer)
        await push(gw, sim, shop_id, first_doc)
        first = await wait_status(gw, first_tid, {"allocated", "held"}, timeout=120, channel="alibaba")
        assert first["status"] == "allocated", first
        (step,) = await credit_steps(gw, first["order_id"])
        assert step["matched"] and step["why"].startswith(
            "on account: ¥0.00 of ¥4,944.00 used, this order ¥3,296.00"
        ), step

        second_doc, second_tid = on_account_order(buyer)
        await push(gw, sim, shop_id, second_doc)
        second = await wait_status(gw, second_tid, {"allocated", "held"}, timeout=120, channel="alibaba")
        assert (second["status"], second["status_reason_code"]) == ("held", "credit_limit"), second
        assert (
            "¥3,296.00 of ¥4,944.00 used, this order ¥3,296.00: ¥1,648.00 over the limit"
            in (second["status_reason"])
        )
        acct = (await gw.get(f"/api/order/credit-accounts/{account}")).json()
        assert (acct["open_cents"], acct["open_orders"]) == (PAID, 1), acct

        # finance records the first order's payment (a bank slip): the account owes nothing
        r = await gw.post(f"/api/order/orders/{first['order_id']}/payment", json={"reference": "slip-e2e-1"})
        assert r.status_code == 200 and r.json()["amount_cents"] == PAID, r.text
        acct = (await gw.get(f"/api/order/credit-accounts/{account}")).json()
        assert acct["open_cents"] == 0 and [o["status"] for o in acct["orders"]] == ["paid"], acct

        async def cleared() -> dict | None:
            rec = (await receivables(gw, account)).get(first["order_id"])
            return rec if rec and rec["status"] == "cleared" else None

        rec = await until(cleared, "finance to clear the first order's receivable", timeout=60)
        assert (rec["account_code"], rec["amount_cents"], rec["outstanding_cents"]) == ("112201", PAID, 0), (
            rec
        )
        assert rec["payment_reference"] == "slip-e2e-1"

        # an operator lets the second one through: counted anyway, and sourced
        r = await gw.post(f"/api/order/orders/{second['order_id']}/release",
                          json={"reason": "the buyer's manager vouched for it"})  # fmt: skip
        assert r.status_code == 200, r.text
        await wait_status(gw, second_tid, {"allocated"}, timeout=120, channel="alibaba")
        acct = (await gw.get(f"/api/order/credit-accounts/{account}")).json()
        assert acct["open_cents"] == PAID, acct
        assert any("whatever its limit" in s["why"] for s in await credit_steps(gw, second["order_id"]))

        async def booked() -> dict | None:
            return (await receivables(gw, account)).get(second["order_id"])

        rec = await until(booked, "finance to book the second order as a receivable", timeout=60)
        assert (rec["status"], rec["outstanding_cents"], rec["overdue"]) == ("open", PAID, False), rec
    finally:
        r = await gw.put(f"/api/order/strategies/{sid}", json={**strategy, "enabled": False})
        assert r.status_code == 200, r.text
