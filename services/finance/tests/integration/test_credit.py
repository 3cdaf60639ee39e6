"""B2B credit terms (账期) on the real database: a sale on account debits the buyer's receivable (112201), the
payment clears it (Dr 1002), a cancellation reverses against it; `GET /receivables` pages and filters."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from omni_contracts import utcnow
from omni_finance import app as app_mod
from omni_finance import consumers, service

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1]))  # finance_aftersales, shared with the unit tests
from finance_aftersales import on_account, payment_received, refund_approved
from finance_factories import ALL_LINES, GOODS, MIGRATIONS, accepted, cancelled, env, rows, shipped, uid, uow
from finance_factories import vouchers_of as vouchers

pytestmark = pytest.mark.integration

FREIGHT = 1_000
PAID = GOODS + FREIGHT


@pytest.fixture
async def db(make_database):
    return await make_database("finance_credit", migrations=MIGRATIONS)


@pytest.fixture
async def client(db, monkeypatch):
    monkeypatch.setattr(consumers, "specs", lambda: [])  # no consumer group on the shared topics in tests
    app = app_mod.build(app_mod.Settings(service_database_url=db.dsn))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c,
    ):
        yield c


def sold_on_account(order_id, buyer, due_at):
    return env(on_account(accepted(order_id).data, buyer, due_at))


async def book(db, *envs):
    await service.handle_order_events(uow(db), list(envs))


async def balances(client, order_id):
    r = await client.get("/trial-balance", params={"order_id": order_id})
    assert r.status_code == 200 and r.json()["balanced"]
    moved = [a for a in r.json()["accounts"] if a["debit_cents"] or a["credit_cents"]]
    return {a["account_code"]: (a["debit_cents"], a["credit_cents"], a["balance_cents"]) for a in moved}


async def test_a_sale_on_account_to_the_receivable_then_the_payment_clears_it(db, client):
    oid, buyer = uid("O"), uid("tmall:b2b")
    due = utcnow() + timedelta(days=30)
    await book(db, sold_on_account(oid, buyer, due))
    assert await vouchers(db, oid) == [
        ("sale", [("112201", PAID, 0), ("2205", 0, GOODS), ("2206", 0, FREIGHT)])
    ]
    [open_] = (await client.get("/receivables", params={"credit_account": buyer})).json()["items"]
    assert (open_["order_id"], open_["status"], open_["amount_cents"], open_["outstanding_cents"]) == (
        oid, "open", PAID, PAID
    )  # fmt: skip
    assert open_["overdue"] is False and open_["account_code"] == "112201"
    await service.handle_shipments(uow(db), [shipped(oid, ALL_LINES)])
    pay = env(payment_received(oid, buyer, PAID, reference="CMB-20261206-1"))
    await book(db, pay, env(payment_received(oid, buyer, PAID)))  # announced twice: paid once
    assert (await vouchers(db, oid))[2:] == [("payment", [("1002", PAID, 0), ("112201", 0, PAID)])]
    assert await balances(client, oid) == {
        "1002": (PAID, 0, PAID), "112201": (PAID, PAID, 0),  # the receivable back to 0
        "2205": (GOODS, GOODS, 0), "2206": (FREIGHT, FREIGHT, 0),
        "6001": (0, GOODS, GOODS), "6051": (0, FREIGHT, FREIGHT),
    }  # fmt: skip
    [cleared] = (
        await client.get("/receivables", params={"credit_account": buyer, "status": "cleared"})
    ).json()["items"]
    assert (cleared["paid_cents"], cleared["outstanding_cents"], cleared["payment_reference"]) == (
        PAID, 0, "CMB-20261206-1"
    )  # fmt: skip
    payment = (await client.get(f"/orders/{oid}/vouchers", params={"kind": "payment"})).json()["items"][0]
    assert cleared["payment_voucher_id"] == payment["voucher_id"] and payment["source_event_id"] == str(
        pay.event_id
    )


async def test_a_cancelled_order_on_account_and_a_refund_reverse_against_the_receivable(db, client):
    gone, refunded, buyer = uid("O"), uid("O"), uid("tmall:b2b")
    await book(db, sold_on_account(gone, buyer, None), cancelled(gone))
    assert (await vouchers(db, gone))[1] == (
        "reversal",
        [("112201", 0, PAID), ("2205", GOODS, 0), ("2206", FREIGHT, 0)],
    )
    assert await balances(client, gone) == {"112201": (PAID, PAID, 0), "2205": (GOODS, GOODS, 0),
                                            "2206": (FREIGHT, FREIGHT, 0)}  # fmt: skip
    await book(db, sold_on_account(refunded, buyer, None))
    await book(db, env(refund_approved(refunded, uid("AS"), [(f"{refunded}-4", "MACHINE-AUTO", 1, 70_000)],
                                       kind="refund_before_shipment")))  # fmt: skip
    got = await rows(
        db, "SELECT order_id, status, credited_cents FROM receivables WHERE credit_account = :b", b=buyer
    )
    assert sorted(tuple(r) for r in got) == sorted([(gone, "cancelled", PAID), (refunded, "open", 70_000)])
    r = (await client.get("/receivables", params={"credit_account": buyer, "status": "open"})).json()
    assert r["total"] == 1 and r["items"][0]["outstanding_cents"] == PAID - 70_000


async def test_receivables_page_and_filter(db, client):
    buyer, other = uid("tmall:b2b"), uid("jd:b2b")
    now = utcnow()
    ids = [uid("O") for _ in range(5)]
    dues = [
        now - timedelta(days=3),
        now - timedelta(days=1),
        now + timedelta(days=10),
        now + timedelta(days=20),
        None,
    ]
    await book(db, *[sold_on_account(o, buyer, d) for o, d in zip(ids, dues, strict=True)])
    await book(db, sold_on_account(uid("O"), other, now - timedelta(days=9)))
    await book(db, env(payment_received(ids[1], buyer, PAID)))  # overdue no more: paid

    r = await client.get("/receivables", params={"credit_account": buyer, "limit": 2})
    body = r.json()
    assert r.status_code == 200 and (body["total"], body["limit"], body["offset"], body["next_offset"]) == (
        5,
        2,
        0,
        2,
    )
    seen = [x["order_id"] for x in body["items"]]
    while body["next_offset"] is not None:
        body = (await client.get("/receivables", params={"credit_account": buyer, "limit": 2,
                                                          "offset": body["next_offset"]})).json()  # fmt: skip
        seen += [x["order_id"] for x in body["items"]]
    assert seen == ids  # the earliest due first, the one without a due date last
    open_ = (await client.get("/receivables", params={"credit_account": buyer, "status": "open"})).json()
    assert [(x["order_id"], x["overdue"]) for x in open_["items"]] == [
        (ids[0], True), (ids[2], False), (ids[3], False), (ids[4], False)
    ]  # fmt: skip
    cleared = (await client.get("/receivables", params={"status": "cleared"})).json()
    assert [(x["order_id"], x["overdue"]) for x in cleared["items"]] == [(ids[1], False)]
    everyone = (await client.get("/receivables")).json()
    assert everyone["total"] == 6 and everyone["items"][0]["credit_account"] == other
    for params in ({"status": "overdue"}, {"limit": 0}, {"offset": -1}, {"credit_account": ""}):
        assert (await client.get("/receivables", params=params)).status_code == 422, params
