"""B2B credit terms on PostgreSQL: intakes at once never take more than a buyer's limit (the account row is
locked), the REST routes record a payment and show the accounts, and a cancel gives the credit back."""

from __future__ import annotations

import asyncio

import pytest
from order_db_helpers import client_for, order_database, outbox, project, scalar, take_in, uow_for
from order_factories import channel_order, envelope, product_events

from omni_contracts.events.channel import ChannelOrderReceivedV2
from omni_order import service
from omni_order.domain.rules.ruleset import StrategyDoc
from omni_order.service import rules

pytestmark = pytest.mark.integration
PAID = 329_600
ACCOUNT = "tmall:acme-trading"


def on_account(buyer: str = "acme-trading") -> ChannelOrderReceivedV2:
    base = channel_order(buyer_id=buyer).model_dump()
    return ChannelOrderReceivedV2.model_validate(base | {"payment": "on_account", "paid_at": None})


async def wholesale(db, limit: int) -> None:
    doc = {"name": "wholesale", "business_model": "B2B", "credit": {"limit_cents": limit, "terms_days": 30}}
    await rules.save(uow_for(db), "strategy", "wholesale", StrategyDoc.model_validate(doc))


async def test_intakes_at_once_never_take_more_than_the_buyers_limit(make_database):
    db = await order_database(make_database)
    await project(db, product_events())
    await wholesale(db, limit=PAID * 3)
    batches = [[envelope(on_account()) for _ in range(2)] for _ in range(4)]
    results = await asyncio.gather(*(take_in(db, b) for b in batches))
    assert sum(len(r.accepted) for r in results) == 8
    assert (
        await scalar(db, "SELECT open_cents FROM credit_accounts WHERE account = :a", a=ACCOUNT) == 3 * PAID
    )
    assert await scalar(db, "SELECT count(*) FROM credit_orders WHERE status = 'open'") == 3
    assert await scalar(db, "SELECT count(*) FROM orders WHERE status = 'accepted'") == 3
    held = await scalar(
        db, "SELECT count(*) FROM orders WHERE status = 'held' AND status_reason_code = 'credit_limit'"
    )
    assert held == 5
    assert len(await outbox(db, "order.accepted")) == 3


async def test_a_payment_through_rest_frees_the_credit_and_the_accounts_are_listed(make_database):
    db = await order_database(make_database)
    await project(db, product_events())
    await wholesale(db, limit=PAID)
    (first,) = (await take_in(db, [envelope(on_account())])).accepted
    (other,) = (await take_in(db, [envelope(on_account("beta-retail"))])).accepted
    (accepted,) = await outbox(db, "order.accepted", key=first)
    assert (accepted["data"]["payment"], accepted["data"]["credit_account"]) == ("on_account", ACCOUNT)
    async with client_for(db) as http:
        wrong = await http.post(f"/orders/{first}/payment", json={"reference": "slip-9", "amount_cents": 1})
        assert wrong.status_code == 409 and "owes ¥3,296.00 on account" in wrong.json()["detail"]
        bad = await http.post(f"/orders/{first}/payment", json={"reference": ""})
        assert bad.status_code == 422
        page1 = (await http.get("/credit-accounts", params={"limit": 1})).json()
        assert [x["account"] for x in page1["items"]] == ["tmall:acme-trading"] and page1["total"] == 2
        page2 = (
            await http.get("/credit-accounts", params={"limit": 1, "cursor": page1["next_cursor"]})
        ).json()
        assert [x["account"] for x in page2["items"]] == ["tmall:beta-retail"] and page2[
            "next_cursor"
        ] is None
        paid = await http.post(f"/orders/{first}/payment", json={"reference": "slip-9"})
        assert paid.status_code == 200 and paid.json()["amount_cents"] == PAID
        detail = (await http.get(f"/credit-accounts/{ACCOUNT}")).json()
        assert detail["open_cents"] == 0 and detail["open_orders"] == 0
        assert [(o["order_id"], o["status"], o["reference"]) for o in detail["orders"]] == [
            (first, "paid", "slip-9")
        ]
        assert (await http.get("/credit-accounts/tmall:nobody")).status_code == 404
    (env,) = await outbox(db, "order.payment-received", key=first)
    assert (env["data"]["amount_cents"], env["data"]["source"]) == (PAID, "operator")
    await service.cancel(uow_for(db), other, "the buyer called it off")
    assert await scalar(db, "SELECT open_cents FROM credit_accounts WHERE account = 'tmall:beta-retail'") == 0
