"""Freight (issue #11) on the FakeUnitOfWork: a shipped parcel's cost, from its carrier choice in force, is
booked once per task (Dr 660102 / Cr 2202) whichever comes first, the choice or the shipment."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from omni_contracts import Envelope
from omni_finance import consumers, service, service_freight
from omni_finance.domain import freight
from omni_finance.domain.freight import Parcel

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1]))
from finance_fakes import accepted, all_lines, env, handle, new_uow, picked_up, shipped, sides, uid
from finance_freight import carrier_chosen
from finance_merged import merged_order

FREIGHT_SIDES = [("660102", 500, 0), ("2202", 0, 500)]


def chosen(
    oid: str, task: str, carrier: str | None = "SF", cost: int | None = 500, **kw: Any
) -> Envelope[Any]:
    return env(carrier_chosen(oid, task, carrier, cost, **kw))


def ship(oid: str, task: str, carrier: str = "SF") -> Envelope[Any]:
    e = shipped(oid, all_lines(oid), task_id=task)
    return e if carrier == "SF" else env(e.data.model_copy(update={"carrier": carrier}))


class Logged:
    """service_freight's logger, recorded (structlog may be configured and cached by other tests)."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []

    def __getattr__(self, level: str) -> Any:
        return lambda event, **kw: self.records.append({"log_level": level, "event": event, **kw})


@pytest.fixture
def logs(monkeypatch) -> list[dict[str, Any]]:
    logged = Logged()
    monkeypatch.setattr(service_freight, "log", logged)
    return logged.records


def freights(repo, order_id: str | None = None) -> list[Any]:
    return [v for v in repo.vouchers if v.kind.value == "freight" and order_id in (None, v.order_id)]


async def booked_order() -> tuple[Any, Any, str, str]:
    uow, repo = new_uow()
    oid = uid("O")
    await handle(uow, accepted(oid))
    return uow, repo, oid, uid("task")


# -- either order of arrival -------------------------------------------------------------------------------
async def test_a_choice_then_its_shipment_books_the_freight_at_the_shipment():
    uow, repo, oid, task = await booked_order()
    await handle(uow, chosen(oid, task))
    assert freights(repo) == [] and repo.costs[task].carrier == "SF"  # not shipped yet: nothing
    s = ship(oid, task)
    await handle(uow, s)
    [v] = freights(repo)
    assert sides(v) == FREIGHT_SIDES and v.order_id == oid
    assert v.source_event_id == s.event_id and v.voucher_id == freight.freight_voucher_id(task, oid)
    assert "carrier SF" in v.summary and "¥5.00 owed to SF" in v.summary, v.summary
    posted = [e for e in uow.of_type("finance.voucher-posted") if e.data.voucher_id == str(v.voucher_id)]
    assert [(e.key, e.causation_id) for e in posted] == [(oid, str(s.event_id))]
    c = repo.costs[task]
    assert (c.booked_carrier, c.booked_cents, c.booked_at is not None) == ("SF", 500, True)


async def test_a_shipment_then_its_choice_books_the_freight_at_the_choice():
    uow, repo, oid, task = await booked_order()
    await handle(uow, ship(oid, task))
    assert freights(repo) == [] and repo.shipments[(task, oid)]["carrier"] == "SF"
    c = chosen(oid, task)
    await handle(uow, c)
    [v] = freights(repo)
    assert sides(v) == FREIGHT_SIDES and v.source_event_id == c.event_id
    assert v.voucher_id == freight.freight_voucher_id(task, oid)  # the same id either way


async def test_the_order_shows_its_freight_in_its_vouchers_and_trial_balance():
    uow, _, oid, task = await booked_order()
    await handle(uow, chosen(oid, task), ship(oid, task))
    items, _ = await service.order_vouchers(uow, oid, kind="freight")
    assert [
        [(x["account_code"], x["debit_cents"], x["credit_cents"]) for x in i["lines"]] for i in items
    ] == [FREIGHT_SIDES]
    tb = await service.trial_balance(uow, order_id=oid)
    bal = {a["account_code"]: a["balance_cents"] for a in tb["accounts"] if a["balance_cents"]}
    assert tb["balanced"] and bal["660102"] == 500 and bal["2202"] == 500, bal


# -- the attempt in force ------------------------------------------------------------------------------------
async def test_a_later_attempt_replaces_the_choice_and_its_cost():
    uow, repo, oid, task = await booked_order()
    await handle(uow, chosen(oid, task, "YTO", 300))
    await handle(uow, chosen(oid, task, "SF", 1_200, attempt=2, replaces="YTO"))
    await handle(uow, ship(oid, task))
    [v] = freights(repo)
    assert sides(v) == [("660102", 1_200, 0), ("2202", 0, 1_200)] and "(attempt 2)" in v.summary


async def test_an_older_attempt_arriving_late_changes_nothing():
    uow, repo, oid, task = await booked_order()
    second = chosen(oid, task, "SF", 1_200, attempt=2, replaces="YTO")
    await handle(uow, second)
    await handle(uow, chosen(oid, task, "YTO", 300))  # attempt 1, late
    assert (repo.costs[task].attempt, repo.costs[task].source_event_id) == (2, second.event_id)
    await handle(uow, ship(oid, task))
    assert [sides(v) for v in freights(repo)] == [[("660102", 1_200, 0), ("2202", 0, 1_200)]]


async def test_a_refusal_then_shipment_with_the_new_carrier_in_one_batch_books_the_new_cost(logs):
    uow, repo, oid, task = await booked_order()
    # attempt 1 YTO; shipped with SF before finance saw attempt 2 (SF): nothing, then booked at attempt 2
    await handle(uow, chosen(oid, task, "YTO", 300), ship(oid, task), chosen(oid, task, "SF", 800, attempt=2))
    [v] = freights(repo)
    assert sides(v) == [("660102", 800, 0), ("2202", 0, 800)]
    assert [x["chosen_carrier"] for x in logs if x["event"].startswith("task shipped with another")] == [
        "YTO"
    ]


# -- nothing to book -------------------------------------------------------------------------------------
async def test_shipped_with_another_carrier_books_nothing_and_warns_naming_both(logs):
    uow, repo, oid, task = await booked_order()
    await handle(uow, chosen(oid, task, "YTO", 300))
    await handle(uow, ship(oid, task, carrier="ZTO"))
    assert freights(repo) == [] and "revenue" in [v.kind.value for v in repo.vouchers]
    [warn] = [x for x in logs if x["log_level"] == "warning"]
    assert (warn["chosen_carrier"], warn["shipped_carrier"], warn["task_id"]) == ("YTO", "ZTO", task), warn
    assert repo.costs[task].booked_at is None


async def test_a_pickup_books_no_freight_even_with_a_choice():
    uow, repo, oid, _ = await booked_order()
    p = picked_up(oid, all_lines(oid))
    await handle(uow, chosen(oid, p.data.task_id), p)
    assert freights(repo) == [] and "revenue" in [v.kind.value for v in repo.vouchers]
    assert repo.shipments[(p.data.task_id, oid)]["carrier"] is None


async def test_no_carrier_or_a_free_parcel_books_nothing():
    uow, repo, oid, task = await booked_order()
    await handle(uow, chosen(oid, task, None, None), ship(oid, task))
    assert freights(repo) == [] and repo.costs[task].carrier is None
    uow2, repo2, oid2, task2 = await booked_order()
    await handle(uow2, ship(oid2, task2), chosen(oid2, task2, "SF", 0))
    assert freights(repo2) == [] and repo2.costs[task2].cost_cents == 0


async def test_a_task_that_never_ships_books_nothing():
    uow, repo, oid, task = await booked_order()
    await handle(uow, chosen(oid, task), ship(oid, uid("other-task")))  # another task of the order shipped
    assert freights(repo) == [] and repo.costs[task].booked_at is None


# -- once per task -----------------------------------------------------------------------------------------
async def test_the_same_events_again_book_nothing_and_a_choice_after_booking_changes_no_books(logs):
    uow, repo, oid, task = await booked_order()
    c, s = chosen(oid, task), ship(oid, task)
    await handle(uow, c, s)
    await handle(uow, c, s)  # past the inbox: redelivered
    await handle(uow, s, c)
    assert len(freights(repo)) == 1
    logs.clear()
    await handle(uow, chosen(oid, task, "YTO", 900, attempt=2))
    assert len(freights(repo)) == 1 and repo.costs[task].attempt == 2
    assert (repo.costs[task].booked_carrier, repo.costs[task].booked_cents) == ("SF", 500)
    assert any(
        x["log_level"] == "warning" and "after the task's freight was booked" in x["event"] for x in logs
    )


# -- merged orders -----------------------------------------------------------------------------------------
async def test_a_merged_orders_parcel_is_split_over_its_sources_by_goods():
    uow, repo = new_uow()
    m, s1, s2 = uid("M"), uid("S1"), uid("S2")
    await handle(uow, env(merged_order(m, s1, s2)))
    task = uid("task")
    lines = [("BEAN-YIRGA", 1, f"{s1}-1"), ("FILTER-100", 3, f"{s1}-2"), ("MACHINE-AUTO", 1, f"{s2}-1"),
             ("FILTER-100", 1, f"{s2}-2")]  # fmt: skip
    await handle(uow, shipped(m, lines, task_id=task), chosen(m, task, "SF", 1_000))
    # S1 shipped 130.00 of goods, S2 704.00: 1,000 fen by goods, largest remainder (155.87 / 844.12)
    assert [(v.order_id, sides(v)) for v in sorted(freights(repo), key=lambda v: v.order_id)] == sorted([
        (s1, [("660102", 156, 0), ("2202", 0, 156)]), (s2, [("660102", 844, 0), ("2202", 0, 844)])
    ])  # fmt: skip
    assert freights(repo, m) == [] and all(f"merged order {m}" in v.summary for v in freights(repo))


def test_split_by_goods_adds_up_and_puts_a_goods_free_parcel_on_the_first_order():
    parcels = [Parcel("B", "SF", 1), Parcel("A", "SF", 1), Parcel("C", "SF", 1)]
    assert freight.split(100, parcels) == [("A", 34), ("B", 33), ("C", 33)]
    assert freight.split(7, [Parcel("B", "SF", 0), Parcel("A", "SF", 0)]) == [("A", 7), ("B", 0)]


def test_carrier_chosen_joins_the_shipments_group():
    spec = next(s for s in consumers.specs() if s.group == consumers.SHIPMENTS_GROUP)
    assert spec.event_types == {"fulfillment.shipped", "fulfillment.picked-up", "fulfillment.carrier-chosen"}
    assert len(consumers.specs()) == 3  # no new group (it would need its DLQ topic and KEDA trigger)
