"""Following fulfillment on the fake unit of work: every transition, split orders, line ids, conflicts."""

from __future__ import annotations

import pytest
from order_journeys import (
    AT,
    STORE_LINES,
    WH_LINES,
    accepted_order,
    all_lines,
    follow,
    fulfilled,
    one_task,
    picked_up_v2,
    qty,
    shipped_v1,
    shipped_v2,
    started,
    statuses,
    two_tasks,
    unfulfillable,
)

from omni_chassis.failures import PermanentError
from omni_contracts.events.fulfillment import ReservationRequestedV1
from omni_order import consumers, service


def _status(uow, order_id):
    return uow.repo.orders[order_id]["status"]


def _shipped(uow, order_id):
    """(task, line, qty, matched) of every shipment line of the order."""
    return sorted(
        (t, line, r["qty"], r["matched"])
        for (o, t, line), r in uow.repo.shipment_lines.items()
        if o == order_id
    )


async def test_a_one_task_order_goes_through_every_status_to_completed():
    uow, oid = await accepted_order()
    await follow(uow, started(oid))
    assert _status(uow, oid) == "sourcing"
    assert uow.repo.history[-1]["reason"] == "sourcing started (attempt 1)"
    await follow(uow, one_task(oid))
    o = uow.repo.orders[oid]
    assert (o["status"], o["status_reason"], o["role_fulfiller"]) == (
        "allocated",
        "allocated at WH-HZ",
        "node:WH-HZ",
    )
    assert sorted((a["line_id"], a["task_id"], a["qty"]) for a in uow.repo.allocation_rows) == [
        (f"{oid}-00{i}", "T1", 3 if i == 5 else 1) for i in range(1, 6)
    ]
    await follow(uow, shipped_v2(oid, "T1", all_lines(oid)))
    assert _status(uow, oid) == "shipped"
    assert uow.repo.orders[oid]["status_reason"] == "shipped by SF (SFT1) from WH-HZ"
    assert _shipped(uow, oid) == [("T1", line, q, False) for line, _, q in all_lines(oid)]
    await follow(uow, fulfilled(oid))
    o = uow.repo.orders[oid]
    assert (o["status"], o["completed_at"]) == ("completed", AT)
    assert statuses(uow, oid) == [
        (None, "received"), ("received", "accepted"), ("accepted", "sourcing"), ("sourcing", "allocated"),
        ("allocated", "shipped"), ("shipped", "completed"),
    ]  # fmt: skip
    assert {h["source"] for h in uow.repo.history[2:]} == {"fulfillment"}
    changes = [(e.data.from_status, e.data.to_status) for e in uow.of_type("order.status-changed")]
    assert changes == statuses(uow, oid)[1:]
    (completed,) = uow.of_type("order.completed")
    assert completed.data.completed_at == AT and completed.key == oid


async def test_a_whole_journey_in_one_batch_is_applied_in_order():
    uow, oid = await accepted_order()
    await follow(uow, started(oid), one_task(oid), shipped_v2(oid, "T1", all_lines(oid)), fulfilled(oid))
    assert _status(uow, oid) == "completed"
    assert len(_shipped(uow, oid)) == 5
    assert uow.commits == 3  # catalog, intake, the batch


async def test_a_split_order_is_partially_shipped_until_every_task_has_shipped():
    uow, oid = await accepted_order()
    await follow(uow, started(oid), two_tasks(oid))
    t1 = [(f"{oid}-00{i}", m, q) for i, (m, q) in enumerate(WH_LINES, start=1)]
    await follow(uow, shipped_v2(oid, "T1", t1))
    o = uow.repo.orders[oid]
    assert (o["status"], o["status_reason"]) == (
        "partially_shipped",
        "shipped by SF (SFT1) from WH-HZ (1 of 2 tasks shipped)",
    )
    await follow(uow, shipped_v2(oid, "T1", t1))  # told again: nothing new
    assert _status(uow, oid) == "partially_shipped"
    await follow(uow, shipped_v2(oid, "T2", [(f"{oid}-005", "BEAN-ETH-500", 1)], node="ST-1"))
    assert _status(uow, oid) == "shipped"
    await follow(uow, fulfilled(oid))
    assert statuses(uow, oid)[3:] == [
        ("sourcing", "allocated"), ("allocated", "partially_shipped"), ("partially_shipped", "shipped"),
        ("shipped", "completed"),
    ]  # fmt: skip
    per_line = {}
    for _, line, q, _ in _shipped(uow, oid):
        per_line[line] = per_line.get(line, 0) + q
    assert per_line == {f"{oid}-00{i}": 3 if i == 5 else 1 for i in range(1, 6)}


async def test_a_split_order_shipped_in_one_batch_passes_through_partially_shipped():
    uow, oid = await accepted_order()
    await follow(
        uow,
        started(oid),
        two_tasks(oid),
        shipped_v1(oid, "T1", WH_LINES),
        shipped_v1(oid, "T2", STORE_LINES, "ST-1"),
    )
    assert statuses(uow, oid)[-2:] == [("allocated", "partially_shipped"), ("partially_shipped", "shipped")]


async def test_a_v1_shipment_is_matched_by_material_to_the_tasks_allocation():
    uow, oid = await accepted_order()
    await follow(uow, started(oid), two_tasks(oid))
    await follow(uow, shipped_v1(oid, "T2", STORE_LINES, node="ST-1"))  # the store's bag ships first
    assert _shipped(uow, oid) == [("T2", f"{oid}-005", 1, True)]
    await follow(uow, shipped_v1(oid, "T1", WH_LINES))
    assert _shipped(uow, oid) == [("T1", f"{oid}-00{i}", 2 if i == 5 else 1, True) for i in range(1, 6)] + [
        ("T2", f"{oid}-005", 1, True)
    ]
    assert _status(uow, oid) == "shipped"


async def test_a_line_id_the_order_does_not_have_falls_back_to_matching():
    uow, oid = await accepted_order()
    await follow(uow, started(oid), one_task(oid))
    lines = all_lines(oid)
    lines[0] = ("O-somebody-else-001", lines[0][1], 1)
    await follow(uow, shipped_v2(oid, "T1", lines))
    assert (("T1", f"{oid}-001", 1, True)) in _shipped(uow, oid)
    assert ("T1", f"{oid}-005", 3, False) in _shipped(uow, oid)


async def test_a_store_pickup_is_shipped_when_picked_up():
    uow, oid = await accepted_order(business_model="O2O", delivery="store_pickup", pickup_node="ST-1")
    await follow(
        uow, started(oid), one_task(oid, kind="pickup", node="ST-1"), picked_up_v2(oid, all_lines(oid))
    )
    assert _status(uow, oid) == "shipped" and uow.repo.orders[oid]["status_reason"] == "picked up from ST-1"
    ((_, shipment),) = uow.repo.shipments.items()
    assert (shipment["kind"], shipment["carrier"], shipment["at"]) == ("pickup", None, AT)


async def test_unfulfillable_holds_the_order_in_exception_once():
    uow, oid = await accepted_order()
    await follow(uow, started(oid), unfulfillable(oid, "0 MACHINE-AUTO-01 anywhere"), unfulfillable(oid))
    o = uow.repo.orders[oid]
    assert (o["status"], o["status_reason_code"], o["status_reason"]) == (
        "exception",
        "unfulfillable",
        "0 MACHINE-AUTO-01 anywhere",
    )
    (raised,) = uow.of_type("order.exception-raised")
    assert (raised.data.reason_code, raised.data.channel) == ("unfulfillable", "tmall")
    await follow(uow, started(oid, attempt=2))  # a leftover attempt of the plan: ignored while in exception
    assert _status(uow, oid) == "exception"


async def test_late_and_repeated_events_are_ignored():
    uow, oid = await accepted_order()
    await follow(uow, started(oid), one_task(oid), shipped_v2(oid, "T1", all_lines(oid)))
    before = len(uow.committed_events)
    await follow(
        uow, started(oid, attempt=2), one_task(oid), unfulfillable(oid), shipped_v2(oid, "T1", all_lines(oid))
    )
    assert _status(uow, oid) == "shipped" and len(uow.committed_events) == before
    assert len(_shipped(uow, oid)) == 5


async def test_fulfilled_while_partially_shipped_is_shipped_then_completed():
    """The order's own count missed a task (its lines did not match the allocation): fulfillment, which owns
    the tasks, says every one has shipped."""
    uow, oid = await accepted_order()
    await follow(uow, started(oid), two_tasks(oid), shipped_v1(oid, "T1", WH_LINES), fulfilled(oid))
    assert statuses(uow, oid)[-3:] == [
        ("allocated", "partially_shipped"), ("partially_shipped", "shipped"), ("shipped", "completed")
    ]  # fmt: skip


async def test_goods_leaving_for_a_cancelled_order_is_permanent_and_changes_nothing():
    uow, oid = await accepted_order()
    await service.cancel(uow, oid, "buyer asked")
    await follow(uow, started(oid), one_task(oid))  # planning after a cancellation: harmless, ignored
    assert _status(uow, oid) == "cancelled" and uow.repo.allocation_rows == []
    before = (len(uow.committed_events), len(uow.repo.history))
    with pytest.raises(
        PermanentError, match=f"fulfillment.shipped for order {oid} contradicts its status cancelled"
    ):
        await follow(uow, shipped_v2(oid, "T1", all_lines(oid)))
    assert uow.repo.shipments == {} and uow.repo.shipment_lines == {}
    assert (len(uow.committed_events), len(uow.repo.history)) == before and _status(uow, oid) == "cancelled"


async def test_a_conflict_rolls_back_the_whole_batch():
    uow, oid = await accepted_order()
    with pytest.raises(PermanentError, match="cannot go from exception to allocated"):
        await follow(uow, unfulfillable(oid), started(oid), one_task(oid))  # skipping: exception -> allocated
    # the unfulfillable before it in the batch is undone too: the batch goes to the DLQ whole
    assert _status(uow, oid) == "accepted" and len(uow.repo.history) == 2
    assert uow.of_type("order.exception-raised") == [] and uow.rollbacks == 1


async def test_an_unknown_order_is_permanent():
    uow, _ = await accepted_order()
    with pytest.raises(PermanentError, match="names order Onope, which this OMS does not know"):
        await follow(uow, fulfilled("Onope"))


async def test_fulfillments_command_to_inventory_is_not_followed():
    uow, oid = await accepted_order()
    req = ReservationRequestedV1(
        reservation_id="R1", order_id=oid, node_code="WH-HZ", lines=qty(("MACHINE-AUTO-01", 1)), attempt=1
    )
    await follow(uow, req)
    assert _status(uow, oid) == "accepted" and uow.commits == 2  # nothing even opened
    assert "fulfillment.reservation-requested" not in consumers.FULFILLMENT_EVENTS
    assert "fulfillment.sourcing-started" in consumers.fulfillment_spec().event_types
    assert service.FULFILLMENT_EVENTS == consumers.FULFILLMENT_EVENTS
