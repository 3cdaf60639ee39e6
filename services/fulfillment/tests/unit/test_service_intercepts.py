"""A partial refund before shipment on a fake unit of work (service/intercepts.py): its units come off the
allocated order's tasks, once per case; the shipment then carries what is left; an order still being
sourced is intercepted when it is allocated; a cancelled order's refund is moot."""

from __future__ import annotations

from typing import Any

from fulfillment_fakes import accepted, cancelled, new_uow, node, refund_approved, reserved, stock_changed

from omni_fulfillment import service
from omni_fulfillment.domain.tasks import TaskStatus


async def seed(uow: Any, nodes: list[Any], stock: list[tuple[str, str, int]]) -> None:
    for n in nodes:
        await service.put_node(uow, n)
    await service.on_stock_changed(uow, [stock_changed(n, m, q) for n, m, q in stock])


async def reserve_all(uow: Any, order_id: str) -> None:
    for e in uow.of_type("fulfillment.reservation-requested"):
        if e.key == order_id:
            await service.on_reservation_replies(uow, [reserved(e.data)])


def tasks_of(uow: Any, order_id: str) -> dict[str, Any]:
    return {t.node_code: t for t in uow.repo.tasks.values() if t.order_id == order_id}


def intercepts(uow: Any) -> list[Any]:
    return [e.data for e in uow.of_type("fulfillment.lines-intercepted")]


async def test_a_refunded_line_comes_off_the_task_which_ships_only_the_rest():
    uow = new_uow()
    await seed(uow, [node("N1", 1)], [("N1", "A", 5), ("N1", "B", 5)])
    await service.on_order_events(uow, [accepted("O1", [("A", 1), ("B", 2)])])
    await reserve_all(uow, "O1")
    (t,) = tasks_of(uow, "O1").values()

    await service.on_order_events(uow, [refund_approved("O1", "C1", [("O1-1", "B", 2)])])
    (ev,) = intercepts(uow)
    assert (ev.order_id, ev.case_id, ev.not_intercepted) == ("O1", "C1", [])
    assert [(x.line_id, x.material_code, x.qty, x.task_id, x.node_code, x.reservation_id, x.task_cancelled)
            for x in ev.intercepted] == [("O1-1", "B", 2, t.task_id, "N1", "O1:1:N1", False)]  # fmt: skip
    kept = uow.repo.tasks[t.task_id]
    assert kept.status is TaskStatus.ASSIGNED
    assert [(x.material_code, x.qty) for x in kept.lines] == [("A", 1)]
    assert uow.repo.intercepts["C1"]["status"] == "done"

    await service.accept_task(uow, t.task_id, "s1", None)
    await service.ship_task(uow, t.task_id, "SF", "SF1", None)
    (shipped,) = [e.data for e in uow.of_type("fulfillment.shipped")]
    assert [(x.line_id, x.material_code, x.qty) for x in shipped.lines] == [("O1-0", "A", 1)]
    assert len(uow.of_type("fulfillment.order-fulfilled")) == 1


async def test_the_same_case_approved_again_changes_nothing():
    uow = new_uow()
    await seed(uow, [node("N1", 1)], [("N1", "A", 5), ("N1", "B", 5)])
    await service.on_order_events(uow, [accepted("O1", [("A", 1), ("B", 2)])])
    await reserve_all(uow, "O1")
    refund = refund_approved("O1", "C1", [("O1-1", "B", 1)])
    await service.on_order_events(uow, [refund])
    again = refund_approved("O1", "C1", [("O1-1", "B", 1)])  # a new event, the same case
    await service.on_order_events(uow, [again, again])
    assert len(intercepts(uow)) == 1
    (t,) = tasks_of(uow, "O1").values()
    assert [(x.material_code, x.qty) for x in t.lines] == [("A", 1), ("B", 1)]


async def test_a_task_emptied_is_cancelled_and_the_order_is_fulfilled_by_the_others():
    """A at N1, B at N2 (N1 has no B): refunding B cancels N2's task; N1's shipment fulfils the order."""
    uow = new_uow()
    await seed(uow, [node("N1", 1), node("N2", 2)], [("N1", "A", 5), ("N2", "B", 5)])
    await service.on_order_events(uow, [accepted("O1", [("A", 1), ("B", 1)])])
    await reserve_all(uow, "O1")
    tasks = tasks_of(uow, "O1")
    await service.on_order_events(uow, [refund_approved("O1", "C1", [("O1-1", "B", 1)])])
    (ev,) = intercepts(uow)
    assert [(x.task_id, x.task_cancelled) for x in ev.intercepted] == [(tasks["N2"].task_id, True)]
    assert uow.repo.tasks[tasks["N2"].task_id].status is TaskStatus.CANCELLED
    assert uow.of_type("fulfillment.order-fulfilled") == []
    await service.accept_task(uow, tasks["N1"].task_id, "s1", None)
    await service.ship_task(uow, tasks["N1"].task_id, "SF", "SF1", None)
    assert len(uow.of_type("fulfillment.order-fulfilled")) == 1


async def test_what_already_shipped_is_not_intercepted_and_emptying_the_rest_fulfils_the_order():
    uow = new_uow()
    await seed(uow, [node("N1", 1), node("N2", 2)], [("N1", "A", 5), ("N2", "B", 5)])
    await service.on_order_events(uow, [accepted("O1", [("A", 1), ("B", 1)])])
    await reserve_all(uow, "O1")
    tasks = tasks_of(uow, "O1")
    await service.accept_task(uow, tasks["N1"].task_id, "s1", None)
    await service.ship_task(uow, tasks["N1"].task_id, "SF", "SF1", None)

    refund = refund_approved("O1", "C1", [("O1-0", "A", 1), ("O1-1", "B", 1)])
    await service.on_order_events(uow, [refund])
    (ev,) = intercepts(uow)
    assert [(x.line_id, x.qty) for x in ev.intercepted] == [("O1-1", 1)]
    assert [(x.line_id, x.qty, x.why) for x in ev.not_intercepted] == [
        ("O1-0", 1, f"already left: shipped from N1 (task {tasks['N1'].task_id})")
    ]
    # the only task still open was emptied: what is left has all left, so the order is fulfilled now
    assert len(uow.of_type("fulfillment.order-fulfilled")) == 1
    assert uow.repo.sourcings["O1"].status.value == "fulfilled"


async def test_an_order_still_being_sourced_is_intercepted_when_it_is_allocated():
    uow = new_uow()
    await seed(uow, [node("N1", 1)], [("N1", "A", 5), ("N1", "B", 5)])
    await service.on_order_events(uow, [accepted("O1", [("A", 1), ("B", 2)])])
    await service.on_order_events(uow, [refund_approved("O1", "C1", [("O1-1", "B", 1)])])
    assert intercepts(uow) == [] and uow.repo.intercepts["C1"]["status"] == "pending"

    await reserve_all(uow, "O1")
    types = [e.event_type for e in uow.committed_events if e.key == "O1"]
    assert types.index("fulfillment.lines-intercepted") == types.index("fulfillment.order-allocated") + 1
    (ev,) = intercepts(uow)
    (t,) = tasks_of(uow, "O1").values()
    assert [(x.line_id, x.qty, x.task_id, x.reservation_id) for x in ev.intercepted] == [
        ("O1-1", 1, t.task_id, "O1:1:N1")
    ]
    assert [(x.material_code, x.qty) for x in t.lines] == [("A", 1), ("B", 1)]
    (allocated,) = [e.data for e in uow.of_type("fulfillment.order-allocated")]
    assert [(x.material_code, x.qty) for x in allocated.tasks[0].lines] == [("A", 1), ("B", 2)]
    assert uow.repo.intercepts["C1"]["status"] == "done"


async def test_a_refund_for_a_cancelled_order_or_after_shipment_intercepts_nothing():
    uow = new_uow()
    await seed(uow, [node("N1", 1)], [("N1", "A", 5), ("N1", "B", 5)])
    await service.on_order_events(uow, [accepted("O1", [("A", 1), ("B", 2)])])
    await service.on_order_events(uow, [refund_approved("O1", "C1", [("O1-1", "B", 1)])])
    await service.on_order_events(uow, [cancelled("O1")])
    assert uow.repo.intercepts["C1"]["status"] == "moot"
    await service.on_order_events(uow, [refund_approved("O1", "C2", [("O1-0", "A", 1)])])
    assert uow.repo.intercepts["C2"]["status"] == "moot"
    after = refund_approved("O1", "C3", [("O1-0", "A", 1)], before_shipment=False)
    money_only = refund_approved("O1", "C4", [("O1-0", "A", 0)])
    await service.on_order_events(uow, [after, money_only])
    assert "C3" not in uow.repo.intercepts and "C4" not in uow.repo.intercepts
    assert intercepts(uow) == []


async def test_a_refund_before_the_order_is_accepted_waits_and_intercepts_at_allocation():
    uow = new_uow()
    await seed(uow, [node("N1", 1)], [("N1", "A", 5), ("N1", "B", 5)])
    await service.on_order_events(uow, [refund_approved("O1", "C1", [("O1-1", "B", 1)])])
    assert uow.repo.intercepts["C1"]["status"] == "pending" and intercepts(uow) == []
    await service.on_order_events(uow, [accepted("O1", [("A", 1), ("B", 2)])])
    await reserve_all(uow, "O1")
    (ev,) = intercepts(uow)
    assert [(x.line_id, x.qty) for x in ev.intercepted] == [("O1-1", 1)] and ev.not_intercepted == []
    (t,) = tasks_of(uow, "O1").values()
    assert [(x.material_code, x.qty) for x in t.lines] == [("A", 1), ("B", 1)]


async def test_a_refund_for_an_order_never_accepted_is_moot_once_it_is_cancelled():
    uow = new_uow()
    await service.on_order_events(uow, [refund_approved("O9", "C1", [("O9-0", "A", 1)])])
    await service.on_order_events(uow, [cancelled("O9")])
    assert uow.repo.intercepts["C1"]["status"] == "moot" and intercepts(uow) == []


async def test_a_refund_and_a_cancellation_in_one_batch_leave_the_task_cancelled():
    uow = new_uow()
    await seed(uow, [node("N1", 1)], [("N1", "A", 5), ("N1", "B", 5)])
    await service.on_order_events(uow, [accepted("O1", [("A", 1), ("B", 2)])])
    await reserve_all(uow, "O1")
    await service.on_order_events(uow, [refund_approved("O1", "C1", [("O1-1", "B", 1)]), cancelled("O1")])
    (t,) = tasks_of(uow, "O1").values()
    assert t.status is TaskStatus.CANCELLED
    assert [(x.material_code, x.qty) for x in t.lines] == [("A", 1), ("B", 1)]  # the refund's change kept
    assert len(intercepts(uow)) == 1
