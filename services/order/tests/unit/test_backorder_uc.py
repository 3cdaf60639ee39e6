"""Backorders on the fake unit of work: made by an unfulfillable for lack of stock, re-sourced by a receipt
(oldest first, as far as the stock goes), back in their first place when unfillable again, escalated by
their timer (held, or cancelled with a refund due), listed oldest first."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from order_factories import channel_order, envelope, product_events
from order_fakes import fake_uow
from order_journeys import accepted_order, follow, one_task, started, statuses

from omni_contracts import utcnow
from omni_contracts.events.common import Shortfall
from omni_contracts.events.fulfillment import OrderUnfulfillableV1
from omni_contracts.events.inventory import StockChangedV5
from omni_order import service
from omni_order.domain.backorder import BackorderPolicy, OnOverdue
from omni_order.domain.rules.ruleset import StrategyDoc
from omni_order.service import backorder as backorder_uc
from omni_order.service import rules
from omni_order.service.records import accepted_event

BAGS = "BEAN-ETH-500"  # the reference order asks for 3
TIMER = service.OVERDUE_TIMER
NO_STOCK = "not enough stock in any combination of active nodes: BEAN-ETH-500 needs 3, 1 available in total"


def short(order_id: str, requested: int = 3, available: int = 1, reason: str = NO_STOCK) -> Any:
    return OrderUnfulfillableV1(
        order_id=order_id, reason=reason, attempts=1,
        shortfall=[Shortfall(material_code=BAGS, requested=requested, available=available)],
    )  # fmt: skip


def stock(available: int, movement: str = "receipt", material: str = BAGS, node: str = "WH-HZ") -> Any:
    d = StockChangedV5(
        node_code=node, material_code=material, on_hand=available, reserved=0, frozen=0, available=available,
        movement=movement, seq=1, changed_at=utcnow(),
    )  # fmt: skip
    return envelope(d, key=f"{node}:{material}")


async def backorders(n: int) -> tuple[Any, list[str]]:
    """n orders in one fake unit of work, each a backorder missing 2 bags, the first the oldest."""
    uow, first = await accepted_order()
    ids = [first]
    for _ in range(n - 1):
        (oid,) = (await service.intake(uow, [envelope(channel_order())])).accepted
        ids.append(oid)
    for oid in ids:
        await follow(uow, started(oid), short(oid))
    return uow, ids


@pytest.fixture
def policy(monkeypatch):
    def set_policy(p: BackorderPolicy) -> None:
        monkeypatch.setattr(backorder_uc, "_defaults", p)

    return set_policy


async def test_an_order_short_of_stock_waits_as_a_backorder_with_its_place_and_shortfall(policy):
    policy(BackorderPolicy(max_age_s=600))
    uow, oid = await accepted_order()
    await follow(uow, started(oid), short(oid))
    o = uow.repo.orders[oid]
    assert (o["status"], o["status_reason_code"], o["status_reason"]) == ("backorder", "backorder", NO_STOCK)
    assert statuses(uow, oid)[-1] == ("sourcing", "backorder")
    assert uow.of_type("order.exception-raised") == []
    (changed,) = [e for e in uow.of_type("order.status-changed") if e.data.to_status == "backorder"]
    assert (changed.key, changed.data.from_status) == (oid, "sourcing")
    row = uow.repo.backorder_rows[oid]
    assert (row["times"], row["on_overdue"], row["due_at"]) == (
        1,
        "hold",
        row["since"] + timedelta(seconds=600),
    )
    assert uow.repo.backorder_shortfalls == {
        (oid, BAGS): {"order_id": oid, "material_code": BAGS, "requested": 3, "available": 1, "missing": 2}
    }
    assert uow.timers[(TIMER, oid)].due_at == row["due_at"]


async def test_a_configuration_problem_still_goes_to_exception():
    uow, oid = await accepted_order()
    await follow(uow, started(oid), short(oid, reason="store pickup node ST-9 is not an active node"))
    assert uow.repo.orders[oid]["status"] == "exception"
    assert len(uow.of_type("order.exception-raised")) == 1
    assert uow.repo.backorder_rows == {} and uow.timers == {}


async def test_a_receipt_re_sources_the_oldest_backorders_as_far_as_it_goes():
    uow, (o1, o2, o3) = await backorders(3)
    accepted_before = len(uow.of_type("order.accepted"))
    assert await service.resource_backorders(uow, [stock(5)]) == sorted([o1, o2])  # 2 + 2 of 5; o3 needs 2
    assert [uow.repo.orders[o]["status"] for o in (o1, o2, o3)] == ["accepted", "accepted", "backorder"]
    again = uow.of_type("order.accepted")[accepted_before:]
    assert sorted(e.key for e in again) == sorted([o1, o2])
    for env in again:  # exactly what an operator's retry emits: the order's row and its material lines
        oid = env.key
        lines = [x for x in uow.repo.lines if x["order_id"] == oid]
        assert env.data == accepted_event(uow.repo.orders[oid], sorted(lines, key=lambda x: x["position"]))
    assert statuses(uow, o1)[-1] == ("backorder", "accepted")
    assert (
        uow.repo.history[-1]["source"] == "inventory"
        and "arrived at WH-HZ (receipt)" in (uow.repo.orders[o1]["status_reason"])
    )
    assert set(uow.timers) == {(TIMER, o3)}  # the re-sourced ones no longer escalate
    assert uow.repo.backorder_rows[o1]["resourced_at"] is not None


async def test_a_transfer_in_re_sources_too_but_other_movements_do_not():
    uow, (o1,) = await backorders(1)
    for movement in ("reservation", "release", "adjustment", "count", "unfreeze"):
        assert await service.resource_backorders(uow, [stock(50, movement)]) == []
    assert await service.resource_backorders(uow, [stock(50, material="CUP")]) == []
    assert uow.repo.orders[o1]["status"] == "backorder"
    assert await service.resource_backorders(uow, [stock(2, "transfer-in")]) == [o1]


async def test_a_batch_of_receipts_does_not_re_source_an_order_twice():
    uow, (o1, o2) = await backorders(2)
    assert await service.resource_backorders(uow, [stock(2), stock(2, node="WH-BJ")]) == sorted([o1, o2])
    assert len([e for e in uow.of_type("order.accepted") if e.key == o1]) == 2  # intake's, then the re-source


async def test_unfillable_again_it_returns_to_backorder_in_its_first_place():
    uow, (o1, o2) = await backorders(2)
    since = uow.repo.backorder_rows[o1]["since"]
    await service.resource_backorders(uow, [stock(2)])
    await follow(uow, started(o1, attempt=2), short(o1))  # the stock was taken meanwhile
    row = uow.repo.backorder_rows[o1]
    assert (uow.repo.orders[o1]["status"], row["since"], row["times"]) == ("backorder", since, 2)
    assert row["last_at"] > since and uow.timers[(TIMER, o1)].due_at == row["due_at"]
    assert row["last_at"] > uow.repo.backorder_rows[o2]["since"]  # it came back after o2 became one...
    assert await service.resource_backorders(uow, [stock(2)]) == [o1]  # ...and is still ahead of o2
    assert uow.repo.orders[o2]["status"] == "backorder"


async def test_an_overdue_backorder_is_held_for_an_operator(policy):
    policy(BackorderPolicy(max_age_s=60, on_overdue=OnOverdue.HOLD))
    uow, (o1,) = await backorders(1)
    assert await uow.fire_due({TIMER: service.on_overdue}, now=utcnow() + timedelta(seconds=30)) == []
    assert await uow.fire_due({TIMER: service.on_overdue}, now=utcnow() + timedelta(seconds=61)) == [
        (TIMER, o1)
    ]
    o = uow.repo.orders[o1]
    assert (o["status"], o["status_reason_code"]) == ("held", "backorder_overdue")
    assert "longer than the 60 s allowed: held for an operator" in o["status_reason"]
    assert statuses(uow, o1)[-1] == ("backorder", "held") and uow.repo.history[-1]["source"] == "timer"
    assert uow.of_type("order.cancelled") == []
    assert (uow.repo.backorder_rows[o1]["escalation"], uow.timers) == ("held", {})
    assert await service.resource_backorders(uow, [stock(9)]) == []  # held: an operator decides now
    assert await service.list_backorders(uow, material_code=None, channel=None, shop_id=None, limit=50,
                                         offset=0) == ([], 0)  # fmt: skip


async def test_an_overdue_backorder_is_cancelled_with_a_refund_due_when_the_policy_says_so(policy):
    policy(BackorderPolicy(max_age_s=60, on_overdue=OnOverdue.CANCEL))
    uow, (o1,) = await backorders(1)
    await uow.fire_due({TIMER: service.on_overdue}, now=utcnow() + timedelta(seconds=61))
    o = uow.repo.orders[o1]
    assert (o["status"], o["status_reason_code"]) == ("cancelled", "backorder_overdue")
    assert o["cancelled_at"] is not None
    (cancelled,) = uow.of_type("order.cancelled")
    assert cancelled.key == o1 and "a refund of 329600 fen (CNY) is due to the buyer" in cancelled.data.reason


async def test_a_timer_left_behind_by_an_order_that_moved_on_changes_nothing():
    uow, (o1,) = await backorders(1)
    await service.cancel(uow, o1, "refunded on the platform")  # the operator's cancel leaves the timer
    events = len(uow.committed_events)
    assert await uow.fire_timer(TIMER, o1, service.on_overdue)
    assert uow.repo.orders[o1]["status"] == "cancelled" and len(uow.committed_events) == events


async def test_backorders_are_listed_oldest_first_with_shortfall_age_and_due_time():
    uow, (o1, o2, o3) = await backorders(3)
    uow.repo.orders[o3]["shop_id"] = "OTHER-SHOP"
    items, total = await service.list_backorders(
        uow, material_code=BAGS, channel="tmall", shop_id=None, limit=2, offset=0
    )
    assert total == 3 and [x["order_id"] for x in items] == [o1, o2]
    first = items[0]
    assert first["shortfall"] == [
        {"order_id": o1, "material_code": BAGS, "requested": 3, "available": 1, "missing": 2}
    ]
    assert first["age_s"] >= 0 and first["due_at"] == uow.repo.backorder_rows[o1]["due_at"]
    (only,), one = await service.list_backorders(
        uow, material_code=None, channel=None, shop_id="OTHER-SHOP", limit=50, offset=0
    )
    assert (only["order_id"], one) == (o3, 1)
    assert await service.list_backorders(uow, material_code="CUP", channel=None, shop_id=None, limit=50,
                                         offset=0) == ([], 0)  # fmt: skip


async def test_a_backorder_allocated_after_its_re_source_leaves_the_list():
    uow, (o1,) = await backorders(1)
    await service.resource_backorders(uow, [stock(2)])
    await follow(uow, started(o1, attempt=2), one_task(o1))
    assert uow.repo.orders[o1]["status"] == "allocated"
    assert await service.list_backorders(uow, material_code=None, channel=None, shop_id=None, limit=50,
                                         offset=0) == ([], 0)  # fmt: skip


async def test_the_policy_is_asked_in_one_place_and_defaults_to_the_settings(monkeypatch):
    from omni_order.app import Settings

    monkeypatch.setenv("OMNI_BACKORDER_MAX_AGE_S", "90")
    monkeypatch.setenv("OMNI_BACKORDER_ON_OVERDUE", "cancel")
    s = Settings()
    assert (s.backorder_max_age_s, s.backorder_on_overdue) == (90, OnOverdue.CANCEL)
    assert {"OMNI_BACKORDER_MAX_AGE_S", "OMNI_BACKORDER_ON_OVERDUE"} <= Settings.env_names()
    monkeypatch.setattr(backorder_uc, "_defaults", backorder_uc._defaults)  # restored after the test
    service.configure_defaults(BackorderPolicy(s.backorder_max_age_s, s.backorder_on_overdue))
    uow, oid = await accepted_order()
    assert await service.backorder_policy(uow, uow.repo.orders[oid]) == BackorderPolicy(90, OnOverdue.CANCEL)


async def test_the_strategy_that_reviewed_the_order_decides_its_backorder_policy(policy):
    """The strategy's `backorder` settings (in the version that reviewed the order) win over the service's
    default; a strategy without them leaves the default; a later edit applies to new orders only."""
    policy(BackorderPolicy(max_age_s=600))
    uow = fake_uow()
    await service.project_catalog(uow, [envelope(e) for e in product_events()])
    strict = {"name": "cancel fast", "match": {"channels": ["tmall"]},
              "backorder": {"max_age_s": 3600, "on_overdue": "cancel"}}  # fmt: skip
    await rules.save(uow, "strategy", "tmall", StrategyDoc.model_validate(strict))
    (first,) = (await service.intake(uow, [envelope(channel_order())])).accepted
    await rules.save(uow, "strategy", "tmall", StrategyDoc.model_validate({**strict, "backorder": None}))
    (second,) = (await service.intake(uow, [envelope(channel_order())])).accepted
    assert (uow.repo.orders[first]["strategy"], uow.repo.orders[second]["strategy"]) == (
        "tmall v1",
        "tmall v2",
    )
    for oid in (first, second):
        await follow(uow, started(oid), short(oid))
    one, two = uow.repo.backorder_rows[first], uow.repo.backorder_rows[second]
    assert (one["on_overdue"], one["due_at"] - one["since"]) == ("cancel", timedelta(seconds=3600))
    assert (two["on_overdue"], two["due_at"] - two["since"]) == ("hold", timedelta(seconds=600))


@pytest.mark.parametrize("movement", ["store-return", "return-restock"])
async def test_goods_coming_back_into_good_stock_re_source_too(movement):
    """A till return and an after-sales return inspected good are stock arriving at the node, like a receipt
    (inventory.stock-changed v5 names the return)."""
    uow, (o1,) = await backorders(1)
    assert await service.resource_backorders(uow, [stock(2, movement)]) == [o1]
