"""Review (审单) in the flow on the fake unit of work: intake holds an order its strategy's rules hold, with
hold rows and a trace; release, approve and bulk continue it; a presale order waits for its balance."""

from __future__ import annotations

import pytest
from order_factories import channel_order, envelope, product_events
from order_fakes import fake_uow

from omni_contracts.events.channel import ChannelOrderReceivedV2
from omni_order import service
from omni_order.domain.rules.ruleset import RuleSetDoc, StrategyDoc
from omni_order.domain.status import IllegalTransition
from omni_order.service import rules

BIG = {"id": "big", "name": "big orders", "when": {"type": "paid_amount", "min": 300_000},
       "then": [{"type": "hold", "code": "big_order", "reason": "3000 yuan or more: check it"}]}  # fmt: skip
FRAUD = {"id": "fraud", "name": "fraud", "when": {"type": "message", "contains": ["刷单"]},
         "then": [{"type": "block", "reason": "looks like a fake order"}]}  # fmt: skip
VIP = {"id": "vip", "name": "vip", "when": {"type": "buyer", "nicks": ["vip-1"]},
       "then": [{"type": "tag", "tags": ["vip"]}, {"type": "priority", "value": 10},
                {"type": "approve"}]}  # fmt: skip


async def configured(*rule_list: dict, **strategy: object):
    uow = fake_uow()
    await service.project_catalog(uow, [envelope(e) for e in product_events()])
    await rules.save(
        uow, "ruleset", "rs", RuleSetDoc.model_validate({"name": "main", "rules": list(rule_list)})
    )
    doc = {"name": "tmall", "ruleset_id": "rs", "match": {"channels": ["tmall"]}} | strategy
    await rules.save(uow, "strategy", "st", StrategyDoc.model_validate(doc))
    return uow


async def take(uow, order=None, **kw) -> str:
    (order_id,) = (await service.intake(uow, [envelope(order or channel_order(**kw))])).accepted
    return order_id


def accepted_events(uow, order_id: str) -> list:
    return [e for e in uow.of_type("order.accepted") if e.key == order_id]


def open_codes(uow, order_id: str) -> list[str]:
    return [h["code"] for h in uow.repo.hold_rows if h["order_id"] == order_id and h["ended_at"] is None]


async def test_an_order_a_rule_holds_is_held_with_its_hold_rows_and_trace():
    uow = await configured(BIG, FRAUD)
    oid = await take(uow)
    o = uow.repo.orders[oid]
    assert (o["status"], o["status_reason_code"], o["status_reason"]) == (
        "held", "big_order", "3000 yuan or more: check it",
    )  # fmt: skip
    assert o["strategy"] == "st v1"
    assert accepted_events(uow, oid) == []  # fulfillment does not see a held order
    assert [e.data.to_status for e in uow.of_type("order.status-changed")] == ["held"]
    assert [(h["from_status"], h["to_status"]) for h in uow.repo.history] == [
        (None, "received"),
        ("received", "held"),
    ]
    assert (
        len([x for x in uow.repo.lines if x["order_id"] == oid]) == 5
    )  # its lines are kept: it keeps its place
    (h,) = uow.repo.hold_rows
    assert (h["code"], h["rule"], h["blocking"], h["ended_at"]) == (
        "big_order",
        "rule big (rs v1)",
        False,
        None,
    )
    t = await service.trace(uow, oid)
    assert (t["status"], t["strategy"]) == ("held", "st v1")
    assert [(d["stage"], d["subject"], d["matched"], d["why"]) for d in t["decisions"]] == [
        ("geo", "ship-to address", True, "address located at district 西湖区 (330106)"),
        ("strategy", "strategy st v1", True, "matches; priority 0"),
        ("review", "rule big (rs v1)", True, "paid amount 3296.00 ≥ 3000.00"),
        ("review", "rule fraud (rs v1)", False, "the buyer message has none of the words"),
        ("review", "outcome", False, "held: big_order"),
    ]
    with pytest.raises(service.OrderNotFound):
        await service.trace(uow, "Onope")


async def test_an_order_no_rule_holds_is_accepted_with_what_its_rules_set():
    uow = await configured(VIP, BIG)
    oid = await take(uow, buyer_id="vip-1")
    o = uow.repo.orders[oid]
    assert (o["status"], o["tags"], o["priority"]) == ("accepted", ["vip"], 10)
    assert len(accepted_events(uow, oid)) == 1 and uow.repo.hold_rows == []
    assert uow.repo.decision_rows[-1]["why"] == "approved by rule vip"


async def test_release_continues_a_held_order_once():
    uow = await configured(BIG)
    oid = await take(uow)
    await service.release(uow, oid, "called the buyer")
    o = uow.repo.orders[oid]
    assert o["status"] == "accepted"
    assert uow.repo.history[-1]["reason"] == "released by an operator (big_order): called the buyer"
    (accepted,) = accepted_events(uow, oid)
    assert [x.line_id for x in accepted.data.lines] == [x["line_id"] for x in uow.repo.lines]
    (h,) = uow.repo.hold_rows
    assert (h["ended_by"], h["end_reason"]) == ("release", "called the buyer") and h["ended_at"] is not None
    with pytest.raises(IllegalTransition, match=f"order {oid} is already accepted"):
        await service.release(uow, oid, "again")
    assert len(accepted_events(uow, oid)) == 1
    with pytest.raises(service.OrderNotFound, match="no order Onope"):
        await service.release(uow, "Onope", "x")


async def test_a_block_needs_an_approve():
    uow = await configured(BIG, FRAUD)
    oid = await take(uow, buyer_message="刷单")
    assert open_codes(uow, oid) == ["big_order", "blocked"]
    commits = uow.commits
    with pytest.raises(
        service.StillHeld, match="blocked \\(looks like a fake order\\): only approve ends a block"
    ):
        await service.release(uow, oid, "looks fine")
    assert uow.commits == commits and uow.repo.orders[oid]["status"] == "held"
    assert open_codes(uow, oid) == ["big_order", "blocked"] and accepted_events(uow, oid) == []
    await service.release(uow, oid, "checked with the platform", approve=True)
    assert uow.repo.orders[oid]["status"] == "accepted" and open_codes(uow, oid) == []
    assert {h["ended_by"] for h in uow.repo.hold_rows} == {"approve"}
    assert len(accepted_events(uow, oid)) == 1


async def test_bulk_actions_are_answered_per_id():
    uow = await configured(BIG)
    held = await take(uow)
    small = channel_order(lines=[channel_order().lines[1]], goods_cents=29_700, discount_cents=875,
                          paid_cents=28_825)  # fmt: skip
    accepted = await take(uow, small)
    assert uow.repo.orders[accepted]["status"] == "accepted"
    results = await service.bulk(uow, "release", [held, "Onope", accepted, held], "batch")
    assert [(r["order_id"], r["ok"], r["status"]) for r in results] == [
        (held, True, "accepted"),
        ("Onope", False, None),
        (accepted, False, "accepted"),
    ]  # fmt: skip  (a repeated id is answered once)
    assert results[0]["error"] is None and results[1]["error"] == "no order Onope"
    assert "already accepted" in results[2]["error"]
    assert len(accepted_events(uow, held)) == 1 and len(accepted_events(uow, accepted)) == 1


async def test_bulk_cancel_and_approve():
    uow = await configured(BIG, FRAUD)
    a, b = await take(uow, buyer_message="刷单"), await take(uow, buyer_message="刷单")
    released = await service.bulk(uow, "release", [a], "try")
    assert released[0]["ok"] is False and "only approve ends a block" in released[0]["error"]
    assert released[0]["status"] == "held"
    results = await service.bulk(uow, "approve", [a], "ok")
    assert results == [{"order_id": a, "ok": True, "status": "accepted", "error": None}]
    results = await service.bulk(uow, "cancel", [b], "fake order")
    assert results == [{"order_id": b, "ok": True, "status": "cancelled", "error": None}]
    assert accepted_events(uow, b) == [] and len(uow.of_type("order.cancelled")) == 1


async def test_a_strategy_without_auto_approve_holds_every_order_for_review():
    uow = await configured(VIP, review={"auto_approve": False})
    held = await take(uow)
    assert uow.repo.orders[held]["status_reason_code"] == "manual_review"
    (h,) = uow.repo.hold_rows
    assert (h["rule"], h["reason"]) == (None, "strategy st approves no order automatically")
    assert uow.repo.orders[await take(uow, buyer_id="vip-1")]["status"] == "accepted"  # a rule approved it


def presale(stage: str, **kw) -> ChannelOrderReceivedV2:
    return ChannelOrderReceivedV2(**(channel_order(**kw).model_dump() | {"presale_stage": stage}))


async def test_a_deposit_only_presale_order_waits_for_its_balance_then_continues():
    uow = await configured()
    deposit = presale("deposit_paid")
    oid = await take(uow, deposit)
    o = uow.repo.orders[oid]
    assert (o["status"], o["status_reason_code"], o["presale_stage"]) == (
        "held",
        "presale_balance",
        "deposit_paid",
    )
    assert accepted_events(uow, oid) == []
    again = await service.intake(uow, [envelope(deposit)])  # the same delivery again: nothing changes
    assert again.duplicates == 1 and uow.repo.orders[oid]["status"] == "held"
    paid = ChannelOrderReceivedV2(**(deposit.model_dump() | {"presale_stage": "final_paid"}))
    result = await service.intake(uow, [envelope(paid)])
    assert result.accepted == [] and result.duplicates == 1  # no new order: the same one continues
    o = uow.repo.orders[oid]
    assert (o["status"], o["presale_stage"]) == ("accepted", "final_paid")
    (h,) = uow.repo.hold_rows
    assert (h["code"], h["ended_by"]) == ("presale_balance", "balance_paid")
    (accepted,) = accepted_events(uow, oid)
    assert accepted.causation_id == str(uow.repo.history[-1]["cause_event_id"])
    last = uow.repo.decision_rows[-1]
    assert (last["why"], last["effect"]) == ("the balance is paid", "continues to sourcing")
    await service.intake(uow, [envelope(paid)])  # paid again: once only
    assert len(accepted_events(uow, oid)) == 1


async def test_a_paid_presale_order_with_another_hold_stays_held():
    uow = await configured(BIG)
    deposit = presale("deposit_paid")
    oid = await take(uow, deposit)
    assert open_codes(uow, oid) == ["big_order", "presale_balance"]
    await service.intake(
        uow, [envelope(ChannelOrderReceivedV2(**(deposit.model_dump() | {"presale_stage": "final_paid"})))]
    )
    o = uow.repo.orders[oid]
    assert (o["status"], o["status_reason_code"]) == ("held", "big_order")
    assert open_codes(uow, oid) == ["big_order"] and accepted_events(uow, oid) == []
    assert uow.repo.decision_rows[-1]["effect"] == "still held: big_order"
    await service.release(uow, oid, "fine")
    assert uow.repo.orders[oid]["status"] == "accepted" and len(accepted_events(uow, oid)) == 1


async def test_a_strategy_may_let_deposit_only_orders_through():
    uow = await configured(presale={"hold_until_final_paid": False})
    oid = await take(uow, presale("deposit_paid"))
    assert uow.repo.orders[oid]["status"] == "accepted" and uow.repo.hold_rows == []
