"""B2B credit terms (an order.accepted on account, order.payment-received) in a FakeUnitOfWork."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

import pytest

from omni_chassis.consumer import PermanentError
from omni_finance import service, service_credit
from omni_finance.domain.credit import ReceivableStatus

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1]))
from finance_aftersales import AT, DUE, compensation_granted, on_account, payment_received, refund_approved
from finance_fakes import (
    FREIGHT,
    GOODS,
    accepted,
    all_lines,
    cancelled,
    env,
    handle,
    new_uow,
    shipped,
    sides,
    uid,
)
from finance_merged import S1_FREIGHT, S1_GOODS, S2_GOODS, merged_order

PAID = GOODS + FREIGHT
BUYER = "tmall:acme-trading"


def sold_on_account(order_id, credit_account=BUYER, due_at=DUE):
    return env(on_account(accepted(order_id).data, credit_account, due_at))


def paid(order_id, amount=PAID, credit_account=BUYER):
    return env(payment_received(order_id, credit_account, amount))


def of(repo, order_id, kind):
    return [v for v in repo.vouchers if v.order_id == order_id and v.kind.value == kind]


async def balance(uow, order_id, code):
    tb = await service.trial_balance(uow, order_id=order_id)
    return next(a["balance_cents"] for a in tb["accounts"] if a["account_code"] == code)


async def test_a_sale_on_account_debits_the_buyers_receivable_and_the_payment_clears_it():
    uow, repo = new_uow()
    oid = uid("O")
    await handle(uow, sold_on_account(oid))
    [sale] = repo.vouchers
    assert sides(sale) == [("112201", PAID, 0), ("2205", 0, GOODS), ("2206", 0, FREIGHT)]
    assert "on account" in sale.summary
    r = repo.receivables[oid]
    assert (r.credit_account, r.amount_cents, r.status, r.due_at) == (BUYER, PAID, ReceivableStatus.OPEN, DUE)
    assert await balance(uow, oid, "112201") == PAID and await balance(uow, oid, "1122") == 0
    pay = paid(oid)
    await handle(uow, pay, paid(oid))  # announced twice: booked once
    await handle(uow, paid(oid))
    [payment] = of(repo, oid, "payment")
    assert (
        sides(payment) == [("1002", PAID, 0), ("112201", 0, PAID)] and payment.source_event_id == pay.event_id
    )
    r = repo.receivables[oid]
    assert (r.status, r.paid_cents, r.outstanding_cents, r.payment_reference) == (
        ReceivableStatus.CLEARED, PAID, 0, "BANK-SLIP-1"
    )  # fmt: skip
    assert r.payment_voucher_id == payment.voucher_id and r.cleared_at == AT
    assert await balance(uow, oid, "112201") == 0 and await balance(uow, oid, "1002") == PAID


async def test_a_cancelled_order_on_account_is_reversed_against_its_receivable():
    uow, repo = new_uow()
    oid = uid("O")
    await handle(uow, sold_on_account(oid), cancelled(oid))
    [reversal] = of(repo, oid, "reversal")
    assert sides(reversal) == [("112201", 0, PAID), ("2205", GOODS, 0), ("2206", FREIGHT, 0)]
    r = repo.receivables[oid]
    assert (r.status, r.credited_cents, r.outstanding_cents) == (ReceivableStatus.CANCELLED, PAID, 0)
    assert await balance(uow, oid, "112201") == 0


async def test_refunds_and_compensation_of_an_order_on_account_lower_what_the_buyer_owes():
    uow, repo = new_uow()
    oid = uid("O")
    await handle(uow, sold_on_account(oid), shipped(oid, all_lines(oid)))
    await handle(uow, env(refund_approved(oid, uid("AS"), [(f"{oid}-4", "MACHINE-AUTO", 1, 70_000)])))
    await handle(uow, env(compensation_granted(oid, uid("AS"), 500)))
    assert sides(of(repo, oid, "refund")[0]) == [("6001", 70_000, 0), ("112201", 0, 70_000)]
    assert sides(of(repo, oid, "compensation")[0]) == [("660101", 500, 0), ("112201", 0, 500)]
    assert repo.receivables[oid].outstanding_cents == PAID - 70_500
    await handle(uow, paid(oid, PAID - 70_500))
    assert repo.receivables[oid].status is ReceivableStatus.CLEARED
    assert await balance(uow, oid, "112201") == 0


async def test_a_payment_of_an_order_not_on_account_books_nothing_and_a_wrong_one_is_permanent():
    uow, repo = new_uow()
    oid, b2b = uid("O"), uid("O")
    await handle(uow, accepted(oid), sold_on_account(b2b))
    await handle(uow, paid(oid))
    assert not of(repo, oid, "payment") and oid not in repo.receivables
    with pytest.raises(PermanentError, match="its receivable is on tmall:acme-trading"):
        await handle(uow, paid(b2b, credit_account="tmall:someone-else"))
    assert repo.receivables[b2b].status is ReceivableStatus.OPEN and not of(repo, b2b, "payment")


async def test_a_merged_order_on_account_opens_a_receivable_per_source():
    uow, repo = new_uow()
    m, s1, s2 = uid("M"), uid("S1"), uid("S2")
    await handle(uow, env(on_account(merged_order(m, s1, s2), BUYER)))
    assert {o: r.amount_cents for o, r in repo.receivables.items()} == {
        s1: S1_GOODS + S1_FREIGHT,
        s2: S2_GOODS,
    }
    assert all(sides(v)[0][0] == "112201" for v in repo.vouchers)
    with pytest.raises(PermanentError, match="payments on account are the source orders'"):
        await handle(uow, paid(m))
    await handle(uow, paid(s1, S1_GOODS + S1_FREIGHT))
    assert repo.receivables[s1].status is ReceivableStatus.CLEARED and await balance(uow, s1, "112201") == 0


async def test_receivables_list_by_credit_account_and_status_with_overdue():
    uow, _ = new_uow()
    a, b, c, d = (uid("O") for _ in range(4))
    await handle(uow, sold_on_account(a, due_at=DUE), sold_on_account(b, due_at=DUE + timedelta(days=30)),
                 sold_on_account(c, "tmall:other", due_at=None), sold_on_account(d))  # fmt: skip
    await handle(uow, paid(d))
    now = DUE + timedelta(days=1)
    items, total = await service_credit.list_receivables(uow, credit_account=BUYER, status="open", now=now)
    assert total == 2 and [(x["order_id"], x["overdue"]) for x in items] == [(a, True), (b, False)]
    items, total = await service_credit.list_receivables(uow, status="cleared", now=now)
    assert (total, items[0]["order_id"], items[0]["overdue"], items[0]["outstanding_cents"]) == (
        1,
        d,
        False,
        0,
    )
    items, total = await service_credit.list_receivables(uow, limit=2, offset=2, now=now)
    assert total == 4 and [x["order_id"] for x in items][-1] == c  # no due date: last
