"""A partial refund before shipment, intercepted by fulfillment (service/intercept.py, follow.py), on the
fake unit of work: the reference order (the coffee set and 3 bags of beans) allocated as T1 (the set and 2
bags, WH-HZ) and T2 (1 bag, ST-1); the buyer is refunded 1 bag. The case notes what was held back where
and what had left; the order's allocation loses the units, so the remaining tasks' shipment ends it
shipped, never stuck partially shipped."""

from __future__ import annotations

from typing import Any

from order_intercepts import intercepted, partial_refund
from order_journeys import (
    WH_LINES,
    accepted_order,
    follow,
    fulfilled,
    shipped_v2,
    started,
    statuses,
    two_tasks,
)

from omni_order import consumers, service

BAG = "BEAN-ETH-500"


async def refunded_order() -> tuple[Any, str, str]:
    """The order allocated over two tasks, 1 bag refunded before shipment; (uow, order id, case id)."""
    uow, oid = await accepted_order()
    await follow(uow, started(oid), two_tasks(oid))
    await partial_refund(uow, uow.repo.orders[oid]["channel_order_id"], "oid-2", 1, 9_608)
    (ev,) = uow.of_type("order.refund-approved")
    assert ev.data.before_shipment and [(x.line_id, x.qty) for x in ev.data.lines] == [(f"{oid}-005", 1)]
    return uow, oid, ev.data.case_id


def wh_shipment(oid: str, bags: int = 2) -> Any:
    lines = [(f"{oid}-00{i}", m, q) for i, (m, q) in enumerate(WH_LINES[:4], start=1)]
    return shipped_v2(oid, "T1", [*lines, (f"{oid}-005", BAG, bags)])


def notes(uow: Any, case_id: str) -> list[str]:
    return [
        h["note"]
        for h in uow.repo.case_history_rows
        if h["case_id"] == case_id and h["source"] == "fulfillment"
    ]


def allocated(uow: Any, oid: str) -> list[tuple[str, str, int]]:
    return sorted(
        (a["task_id"], a["line_id"], a["qty"]) for a in uow.repo.allocation_rows if a["order_id"] == oid
    )


async def test_the_task_intercepted_whole_is_no_longer_waited_for_and_the_order_ships():
    uow, oid, case_id = await refunded_order()
    await follow(uow, intercepted(oid, case_id, [(f"{oid}-005", BAG, 1, "T2", "ST-1", True)]))
    assert notes(uow, case_id) == [
        f"fulfillment held back before shipment: 1 × {BAG} (line {oid}-005) at ST-1, its task T2 cancelled"
    ]
    assert ("T2", f"{oid}-005", 1) not in allocated(uow, oid)
    assert uow.repo.orders[oid]["status"] == "allocated"  # the intercept moves no status by itself

    await follow(uow, wh_shipment(oid), fulfilled(oid))
    assert statuses(uow, oid)[-2:] == [("allocated", "shipped"), ("shipped", "completed")]


async def test_a_partially_shipped_order_whose_rest_is_intercepted_is_shipped():
    uow, oid, case_id = await refunded_order()
    await follow(uow, wh_shipment(oid))
    assert uow.repo.orders[oid]["status"] == "partially_shipped"
    await follow(uow, intercepted(oid, case_id, [(f"{oid}-005", BAG, 1, "T2", "ST-1", True)]))
    assert statuses(uow, oid)[-1] == ("partially_shipped", "shipped")
    (last,) = [h for h in uow.repo.history if h["order_id"] == oid][-1:]
    assert f"after-sales case {case_id}" in last["reason"]


async def test_units_off_a_task_that_still_ships_lower_its_allocation_once():
    uow, oid, case_id = await refunded_order()
    cut = intercepted(oid, case_id, [(f"{oid}-005", BAG, 1, "T1", "WH-HZ", False)])
    await follow(uow, cut)
    await follow(uow, cut)  # fulfillment says it once per case; a second event changes nothing
    assert len(notes(uow, case_id)) == 1 and "off task T1" in notes(uow, case_id)[0]
    assert [a for a in allocated(uow, oid) if a[1] == f"{oid}-005"] == [
        ("T1", f"{oid}-005", 1),
        ("T2", f"{oid}-005", 1),
    ]
    await follow(uow, wh_shipment(oid, bags=1))
    assert uow.repo.orders[oid]["status"] == "partially_shipped"  # T2 still has its bag to ship
    await follow(uow, shipped_v2(oid, "T2", [(f"{oid}-005", BAG, 1)], node="ST-1"))
    assert uow.repo.orders[oid]["status"] == "shipped"


async def test_allocation_intercept_and_shipment_in_one_batch():
    uow, oid = await accepted_order()
    await follow(uow, started(oid))
    await partial_refund(uow, uow.repo.orders[oid]["channel_order_id"], "oid-2", 1, 9_608)
    (ev,) = uow.of_type("order.refund-approved")
    cut = intercepted(oid, ev.data.case_id, [(f"{oid}-005", BAG, 1, "T2", "ST-1", True)])
    await follow(uow, two_tasks(oid), cut, wh_shipment(oid))
    assert statuses(uow, oid)[-2:] == [("sourcing", "allocated"), ("allocated", "shipped")]
    assert {t for t, _, _ in allocated(uow, oid)} == {"T1"}


async def test_what_had_already_left_is_noted_with_why():
    uow, oid, case_id = await refunded_order()
    gone = [(f"{oid}-005", BAG, 1, "already left: shipped from WH-HZ (task T1)")]
    await follow(uow, intercepted(oid, case_id, [], gone))
    assert notes(uow, case_id) == [
        f"fulfillment nothing could be held back | not held back: 1 × {BAG} (line {oid}-005): already left: "
        "shipped from WH-HZ (task T1)"
    ]
    assert len(allocated(uow, oid)) == 6  # nothing came off
    case = uow.repo.cases[case_id]
    assert (case["kind"], case["state"], case["money_done"]) == ("refund_before_shipment", "refunded", True)


async def test_a_case_this_oms_does_not_know_still_takes_the_units_off_the_allocation():
    uow, oid, _ = await refunded_order()
    await follow(uow, intercepted(oid, "AS-UNKNOWN", [(f"{oid}-005", BAG, 1, "T2", "ST-1", True)]))
    assert {t for t, _, _ in allocated(uow, oid)} == {"T1"}
    assert not [h for h in uow.repo.case_history_rows if h["source"] == "fulfillment"]


def test_the_fulfillment_consumer_reads_the_intercepts():
    assert "fulfillment.lines-intercepted" in consumers.fulfillment_spec().event_types
    assert "fulfillment.lines-intercepted" in service.FULFILLMENT_EVENTS
