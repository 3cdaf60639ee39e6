"""Presale (预售) on the fake unit of work: a strategy's ship-from date holds presale orders until then (a
timer ends the hold and the order goes on), and its balance deadline closes a deposit-only order still
unpaid then (a timer; the balance paid first cancels it)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from order_factories import channel_order, envelope, product_events
from order_fakes import fake_uow

from omni_contracts.events.channel import ChannelOrderReceivedV2
from omni_order import service
from omni_order.domain.rules.ruleset import StrategyDoc
from omni_order.service import rules

SHIP, DUE = "order.presale-ship-from", "order.presale-balance-due"
TIMERS = service.PRESALE_TIMERS
AT = channel_order().created_at  # every factory order is made at the same instant


def presale(stage: str, **kw: Any) -> ChannelOrderReceivedV2:
    return ChannelOrderReceivedV2(**(channel_order(**kw).model_dump() | {"presale_stage": stage}))


async def shop(**presale_settings: Any) -> Any:
    uow = fake_uow()
    await service.project_catalog(uow, [envelope(e) for e in product_events()])
    doc = StrategyDoc.model_validate({"name": "presale", "presale": presale_settings})
    await rules.save(uow, "strategy", "tmall", doc)
    return uow


async def take(uow: Any, doc: Any) -> str:
    (oid,) = (await service.intake(uow, [envelope(doc)])).accepted
    return oid


def status(uow: Any, oid: str) -> tuple[str, str | None]:
    o = uow.repo.orders[oid]
    return o["status"], o["status_reason_code"]


async def test_a_presale_order_waits_for_the_ship_from_date_then_goes_on():
    ship_from = AT + timedelta(days=10)
    uow = await shop(ship_from=ship_from.isoformat())
    oid = await take(uow, presale("final_paid"))
    plain = await take(uow, channel_order())  # not presale: no wait
    assert status(uow, oid) == ("held", "presale_ship_from") and status(uow, plain) == ("accepted", None)
    assert uow.timers[(SHIP, oid)].due_at == ship_from and (SHIP, plain) not in uow.timers
    assert await uow.fire_due(TIMERS, now=ship_from - timedelta(seconds=1)) == []
    assert await uow.fire_due(TIMERS, now=ship_from) == [(SHIP, oid)]
    assert status(uow, oid) == ("accepted", None)
    assert [e.data.order_id for e in uow.of_type("order.accepted")] == [plain, oid]
    (hold,) = [h for h in uow.repo.hold_rows if h["order_id"] == oid]
    assert (hold["code"], hold["ended_by"]) == ("presale_ship_from", "ship_from")


async def test_a_ship_from_date_already_past_holds_nothing():
    uow = await shop(ship_from=(AT - timedelta(hours=1)).isoformat())
    oid = await take(uow, presale("final_paid"))
    assert status(uow, oid) == ("accepted", None) and uow.timers == {}


async def test_a_deposit_unpaid_past_its_deadline_is_closed():
    uow = await shop(balance_due_h=48)
    oid = await take(uow, presale("deposit_paid"))
    due = AT + timedelta(hours=48)
    assert status(uow, oid) == ("held", "presale_balance") and uow.timers[(DUE, oid)].due_at == due
    assert await uow.fire_due(TIMERS, now=due) == [(DUE, oid)]
    assert status(uow, oid) == ("cancelled", "presale_unpaid")
    (cancelled,) = uow.of_type("order.cancelled")
    assert cancelled.data.order_id == oid and "balance was not paid" in cancelled.data.reason
    assert uow.of_type("order.accepted") == []


async def test_the_balance_paid_in_time_cancels_the_deadline_and_the_ship_from_date_still_holds():
    ship_from = AT + timedelta(days=3)
    uow = await shop(balance_due_h=24, ship_from=ship_from.isoformat())
    deposit = presale("deposit_paid")
    oid = await take(uow, deposit)
    assert {k for k, _ in uow.timers} == {SHIP, DUE}
    paid = ChannelOrderReceivedV2(**(deposit.model_dump() | {"presale_stage": "final_paid"}))
    await service.intake(uow, [envelope(paid)])  # the platform's repeated delivery, now paid in full
    assert status(uow, oid) == ("held", "presale_ship_from") and set(uow.timers) == {(SHIP, oid)}
    assert uow.repo.orders[oid]["presale_stage"] == "final_paid"
    assert await uow.fire_due(TIMERS, now=ship_from) == [(SHIP, oid)]
    assert status(uow, oid) == ("accepted", None)
    assert len(uow.of_type("order.accepted")) == 1


async def test_a_deadline_that_fires_after_an_operator_cancelled_changes_nothing():
    uow = await shop(balance_due_h=1)
    oid = await take(uow, presale("deposit_paid"))
    await service.cancel(uow, oid, "the buyer asked")
    assert await uow.fire_due(TIMERS, now=AT + timedelta(hours=2)) == [(DUE, oid)]
    assert status(uow, oid) == ("cancelled", "cancelled") and len(uow.of_type("order.cancelled")) == 1
