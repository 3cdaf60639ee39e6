"""B2B credit terms (账期), on the fake unit of work: an order on account is counted against its buyer's
credit account within the strategy's limit, held or cancelled over it (with the numbers in the trace),
never accepted as if paid without credit terms; a payment (an operator's, or the platform's re-delivery as
paid) closes its credit, a cancel gives it back."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from order_factories import channel_order, envelope, product_events
from order_fakes import fake_uow
from pydantic import ValidationError

from omni_contracts import utcnow
from omni_contracts.events.channel import ChannelOrderReceivedV2
from omni_order import service
from omni_order.domain.credit import check, yuan
from omni_order.domain.rules.documents import CreditSettings
from omni_order.domain.rules.ruleset import StrategyDoc
from omni_order.service import rules

PAID = 329_600  # the reference order's paid amount


def on_account(**kw: Any) -> ChannelOrderReceivedV2:
    base = channel_order(buyer_id=kw.pop("buyer_id", "acme-trading")).model_dump()
    return ChannelOrderReceivedV2.model_validate(
        base | {"payment": "on_account", "payment_terms": "period", "paid_at": None} | kw
    )


def b2b(limit: int, on_over: str = "hold", terms_days: int = 30) -> StrategyDoc:
    return StrategyDoc.model_validate({
        "name": "wholesale", "business_model": "B2B",
        "credit": {"limit_cents": limit, "terms_days": terms_days, "on_over": on_over},
    })  # fmt: skip


async def shop(strategy: StrategyDoc | None) -> Any:
    uow = fake_uow()
    await service.project_catalog(uow, [envelope(e) for e in product_events()])
    if strategy is not None:
        await rules.save(uow, "strategy", "wholesale", strategy)
    return uow


async def take(uow: Any, order: Any) -> str:
    (oid,) = (await service.intake(uow, [envelope(order)])).accepted
    return oid


def accepted(uow: Any, oid: str) -> Any:
    (env,) = [e for e in uow.of_type("order.accepted") if e.data.order_id == oid]
    return env.data


def credit_trace(uow: Any, oid: str) -> list[tuple[bool, str, str]]:
    return [(t["matched"], t["why"], t["effect"]) for t in uow.repo.decision_rows
            if t["order_id"] == oid and t["stage"] == "credit"]  # fmt: skip


def test_the_limit_itself_is_within_and_one_fen_more_is_over():
    s = CreditSettings(limit_cents=1_000_000)
    assert check(600_000, 400_000, s).within
    over = check(600_001, 400_000, s)
    assert not over.within and over.why.endswith("¥0.01 over the limit")
    assert check(0, 0, s).within and yuan(1_200_000) == "¥12,000.00"


def test_credit_terms_are_refused_outside_b2b_with_a_reason_and_allowed_for_b2b():
    with pytest.raises(ValidationError, match="credit terms apply to B2B orders only"):
        StrategyDoc.model_validate({"name": "x", "credit": {"limit_cents": 1}})
    with pytest.raises(ValidationError, match="credit terms apply to B2B orders only"):
        StrategyDoc.model_validate({"name": "x", "business_model": "B2C", "credit": {"limit_cents": 1}})
    StrategyDoc.model_validate(
        {"name": "x", "match": {"business_models": ["B2B"]}, "credit": {"limit_cents": 1}}
    )
    with pytest.raises(ValidationError):
        CreditSettings.model_validate({"limit_cents": -1})


async def test_within_the_limit_an_order_on_account_is_accepted_counted_and_due_after_its_terms():
    uow = await shop(b2b(limit=PAID * 2, terms_days=45))
    before = utcnow()
    oid = await take(uow, on_account())
    d = accepted(uow, oid)
    assert (d.payment, d.credit_account, d.business_model) == ("on_account", "tmall:acme-trading", "B2B")
    assert before + timedelta(days=45) <= d.due_at <= utcnow() + timedelta(days=45)
    assert uow.repo.credit_account_rows == {"tmall:acme-trading": PAID}
    ((matched, why, effect),) = credit_trace(uow, oid)
    assert matched and why.startswith("on account: ¥0.00 of ¥6,592.00 used, this order ¥3,296.00")
    assert effect == "taken on account: ¥3,296.00 used"


async def test_over_the_limit_the_next_order_is_held_with_the_numbers_and_a_release_counts_it_anyway():
    uow = await shop(b2b(limit=PAID + PAID // 2))
    first = await take(uow, on_account())
    second = await take(uow, on_account())
    assert uow.repo.orders[second]["status"] == "held"
    assert uow.repo.orders[second]["status_reason_code"] == "credit_limit"
    assert (
        "¥3,296.00 of ¥4,944.00 used, this order ¥3,296.00: ¥1,648.00 over the limit"
        in (uow.repo.orders[second]["status_reason"])
    )
    assert [x.data.order_id for x in uow.of_type("order.accepted")] == [first]
    await service.release(uow, second, "the buyer's manager vouched for it")
    assert accepted(uow, second).payment == "on_account"
    assert uow.repo.credit_account_rows["tmall:acme-trading"] == 2 * PAID
    assert uow.repo.credit_order_rows[second]["limit_cents"] is None  # released over the limit
    assert any(e == "taken on account" and "whatever its limit" in w for _, w, e in credit_trace(uow, second))


async def test_on_over_cancel_cancels_the_order_at_intake_and_counts_nothing():
    uow = await shop(b2b(limit=PAID - 1, on_over="cancel"))
    oid = await take(uow, on_account())
    assert uow.repo.orders[oid]["status"] == "cancelled"
    assert uow.repo.orders[oid]["cancelled_at"] is not None
    (cancelled,) = uow.of_type("order.cancelled")
    assert cancelled.data.order_id == oid and "over the credit limit" in cancelled.data.reason
    assert not uow.of_type("order.accepted") and uow.repo.credit_account_rows == {"tmall:acme-trading": 0}


async def test_an_order_on_account_without_credit_terms_is_held_not_accepted_as_paid():
    for strategy in (None, StrategyDoc(name="b2c")):
        uow = await shop(strategy)
        oid = await take(uow, on_account())
        row = uow.repo.orders[oid]
        assert (row["status"], row["status_reason_code"], row["payment"]) == (
            "held",
            "credit_limit",
            "on_account",
        )
        assert "no credit terms apply" in row["status_reason"]
        assert not uow.of_type("order.accepted")


async def test_a_paid_order_under_credit_terms_is_not_counted():
    uow = await shop(b2b(limit=1))
    oid = await take(uow, channel_order())
    assert accepted(uow, oid).payment == "paid" and uow.repo.credit_order_rows == {}


async def test_a_payment_closes_the_credit_once_and_tells_finance():
    uow = await shop(b2b(limit=PAID))
    oid = await take(uow, on_account())
    with pytest.raises(service.NotOnAccount, match=r"owes ¥3,296\.00 on account, not ¥1\.00"):
        await service.record_payment(uow, oid, reference="slip-1", amount_cents=100)
    done = await service.record_payment(uow, oid, reference="slip-1")
    assert (done["status"], done["amount_cents"]) == ("paid", PAID)
    (env,) = uow.of_type("order.payment-received")
    assert (env.data.order_id, env.data.amount_cents, env.data.source, env.data.reference) == (
        oid, PAID, "operator", "slip-1",
    )  # fmt: skip
    assert uow.repo.credit_account_rows["tmall:acme-trading"] == 0
    with pytest.raises(service.NotOnAccount, match="its credit is paid"):
        await service.record_payment(uow, oid, reference="slip-2")
    paid_order = await take(uow, on_account())  # the credit freed takes the next order in
    assert accepted(uow, paid_order).payment == "on_account"


async def test_a_payment_for_a_paid_order_or_a_held_one_is_refused():
    uow = await shop(b2b(limit=PAID))
    paid = await take(uow, channel_order())
    with pytest.raises(service.NotOnAccount, match="owes nothing on account"):
        await service.record_payment(uow, paid, reference="x")
    await take(uow, on_account())
    held = await take(uow, on_account())
    with pytest.raises(service.NotOnAccount, match="release it first"):
        await service.record_payment(uow, held, reference="x")


async def test_a_cancel_gives_the_credit_back():
    uow = await shop(b2b(limit=PAID))
    oid = await take(uow, on_account())
    await service.cancel(uow, oid, "the buyer changed their mind")
    assert uow.repo.credit_order_rows[oid]["status"] == "cancelled"
    assert uow.repo.credit_account_rows["tmall:acme-trading"] == 0


async def test_the_platform_delivering_it_again_as_paid_pays_it_or_frees_a_held_one():
    uow = await shop(b2b(limit=PAID))
    counted = on_account()
    held = on_account()
    first, second = await take(uow, counted), await take(uow, held)
    assert uow.repo.orders[second]["status"] == "held"
    paid_now = [
        envelope(x.model_copy(update={"payment": "paid", "paid_at": utcnow()})) for x in (counted, held)
    ]
    await service.intake(uow, paid_now)
    (env,) = uow.of_type("order.payment-received")
    assert (env.data.order_id, env.data.source) == (first, "channel")
    assert uow.repo.credit_account_rows["tmall:acme-trading"] == 0
    d = accepted(uow, second)
    assert d.payment == "paid" and d.due_at is None and uow.repo.orders[second]["status"] == "accepted"
