"""Split by type and lines that do not ship, on a fake unit of work: each group is reserved and put on tasks
apart (two tasks at one node), re-planned apart, and named in the decision trace and the task; a virtual or
service line is not sourced; an order with no line that ships is fulfilled at once; redelivery changes
nothing."""

from __future__ import annotations

from typing import Any

from fulfillment_fakes import accepted, cancelled, new_uow, node, refused, reserved, stock_changed

from omni_fulfillment import service
from omni_fulfillment.api_tasks import TaskOut
from omni_fulfillment.domain.order_sourcing import NOTHING_TO_SHIP, SourcingStatus
from omni_fulfillment.domain.tasks import TaskStatus


async def seed(uow: Any, nodes: list[Any], stock: list[tuple[str, str, int]]) -> None:
    for n in nodes:
        await service.put_node(uow, n)
    await service.on_stock_changed(uow, [stock_changed(n, m, q) for n, m, q in stock])


def requests(uow: Any, order_id: str) -> list[Any]:
    return [e.data for e in uow.of_type("fulfillment.reservation-requested") if e.key == order_id]


def types(uow: Any, order_id: str) -> list[str]:
    return [e.event_type for e in uow.committed_events if e.key == order_id]


def lines(x: Any) -> list[tuple[str, int]]:
    return [(m.material_code, m.qty) for m in x.lines]


async def ship(uow: Any, task_id: str, no: str) -> None:
    task = uow.repo.tasks[task_id]
    await service.accept_task(uow, task_id, "s1", task.node_code)
    await service.ship_task(uow, task_id, "SF", no, task.node_code)


async def test_a_cold_chain_line_gets_its_own_reservation_and_task_at_the_same_node():
    uow = new_uow()
    await seed(uow, [node("N1", 1)], [("N1", "A", 5), ("N1", "B", 5), ("N1", "C", 5)])
    order = accepted("O1", [("A", 2), ("C", 1), ("B", 1)], groups={"C": "cold_chain"})
    await service.on_order_events(uow, [order])
    assert types(uow, "O1") == [
        "fulfillment.sourcing-started",
        "fulfillment.sourcing-decided",
        "fulfillment.sourcing-decided",
        "fulfillment.reservation-requested",
        "fulfillment.reservation-requested",
    ]
    main, cold = requests(uow, "O1")
    assert (main.reservation_id, main.node_code, lines(main)) == ("O1:1:N1", "N1", [("A", 2), ("B", 1)])
    assert (cold.reservation_id, cold.node_code, lines(cold)) == ("O1:1:N1:cold_chain", "N1", [("C", 1)])
    whys = [[n.why for n in e.data.nodes] for e in uow.of_type("fulfillment.sourcing-decided")]
    assert [w[0].split(":")[0] for w in whys] == ["main group", "cold_chain group"]

    await service.on_reservation_replies(uow, [reserved(cold), reserved(main)])
    (allocation,) = [e.data for e in uow.of_type("fulfillment.order-allocated")]
    assert [(t.node_code, t.reservation_id, lines(t)) for t in allocation.tasks] == [
        ("N1", "O1:1:N1", [("A", 2), ("B", 1)]),
        ("N1", "O1:1:N1:cold_chain", [("C", 1)]),
    ]
    tasks = {t.group: t for t in uow.repo.tasks.values()}
    assert set(tasks) == {None, "cold_chain"} and len(uow.repo.tasks) == 2
    assert [(p.line_id, p.qty) for p in tasks["cold_chain"].order_lines] == [("O1-1", 1)]
    assert [(p.line_id, p.qty) for p in tasks[None].order_lines] == [("O1-0", 2), ("O1-2", 1)]
    view = TaskOut.of(tasks["cold_chain"], None)
    assert (view.group, view.reservation_id) == ("cold_chain", "O1:1:N1:cold_chain")
    assert TaskOut.of(tasks[None], None).group is None

    # Each ships on its own: the order is fulfilled with the second.
    await ship(uow, tasks["cold_chain"].task_id, "SF-COLD")
    assert not uow.of_type("fulfillment.order-fulfilled")
    await ship(uow, tasks[None].task_id, "SF-MAIN")
    shipped = [e.data for e in uow.of_type("fulfillment.shipped")]
    assert [(s.tracking_no, [(x.line_id, x.qty) for x in s.lines]) for s in shipped] == [
        ("SF-COLD", [("O1-1", 1)]),
        ("SF-MAIN", [("O1-0", 2), ("O1-2", 1)]),
    ]
    assert len(uow.of_type("fulfillment.order-fulfilled")) == 1
    assert uow.repo.sourcings["O1"].status is SourcingStatus.FULFILLED

    # A redelivered acceptance changes nothing.
    before = len(uow.committed_events)
    await service.on_order_events(uow, [order, accepted("O1", {"A": 2}, groups={"A": "frozen"})])
    assert len(uow.committed_events) == before and len(uow.repo.tasks) == 2


async def test_a_refusal_re_plans_its_group_only_and_the_trace_says_which():
    uow = new_uow()
    await seed(
        uow,
        [node("N1", 1), node("N2", 2)],
        [("N1", "A", 5), ("N1", "C", 5), ("N2", "A", 5), ("N2", "C", 5)],
    )
    await service.on_order_events(uow, [accepted("O1", {"A": 1, "C": 1}, groups={"C": "frozen"})])
    main, frozen = requests(uow, "O1")
    await service.on_reservation_replies(uow, [reserved(main), refused(frozen)])
    again = requests(uow, "O1")[2]
    assert (again.reservation_id, again.attempt, lines(again)) == ("O1:2:N2:frozen", 2, [("C", 1)])
    decision = [e.data for e in uow.of_type("fulfillment.sourcing-decided")][-1]
    assert decision.attempt == 2 and [(x.material_code, x.qty) for x in decision.lines] == [("C", 1)]
    assert {n.node_code: n.why.split(":")[0] for n in decision.nodes} == {
        "N2": "frozen group",
        "N1": "frozen group",
    }
    await service.on_reservation_replies(uow, [reserved(again)])
    (allocation,) = [e.data for e in uow.of_type("fulfillment.order-allocated")]
    assert [t.reservation_id for t in allocation.tasks] == ["O1:1:N1", "O1:2:N2:frozen"]


async def test_a_group_that_cannot_be_filled_makes_the_order_unfulfillable_and_says_which():
    uow = new_uow()
    await seed(uow, [node("N1", 1)], [("N1", "A", 5), ("N1", "C", 1)])
    await service.on_order_events(uow, [accepted("O1", {"A": 1, "C": 2}, groups={"C": "oversize"})])
    assert types(uow, "O1") == [
        "fulfillment.sourcing-started",
        "fulfillment.sourcing-decided",
        "fulfillment.order-unfulfillable",
    ]
    (verdict,) = [e.data for e in uow.of_type("fulfillment.order-unfulfillable")]
    assert verdict.reason == (
        "oversize group: not enough stock in any combination of active nodes: C needs 2, 1 available in total"
    )
    assert [(s.material_code, s.requested, s.available) for s in verdict.shortfall] == [("C", 2, 1)]
    assert not requests(uow, "O1") and not uow.repo.sourcings["O1"].reservations


async def test_a_virtual_line_is_not_sourced_reserved_or_on_a_task():
    uow = new_uow()
    await seed(uow, [node("N1", 1)], [("N1", "A", 5)])
    await service.on_order_events(uow, [accepted("O1", {"COUPON": 1, "A": 1}, virtual={"COUPON"})])
    (request,) = requests(uow, "O1")
    assert lines(request) == [("A", 1)]
    (decision,) = [e.data for e in uow.of_type("fulfillment.sourcing-decided")]
    assert [(x.material_code, x.qty) for x in decision.lines] == [("A", 1)]
    assert not decision.nodes[0].why.startswith("main group"), "no group named: no label"
    await service.on_reservation_replies(uow, [reserved(request)])
    (task,) = uow.repo.tasks.values()
    assert [(x.material_code, x.qty) for x in task.lines] == [("A", 1)]
    assert [(p.line_id, p.material_code) for p in task.order_lines] == [("O1-1", "A")]
    kept = uow.repo.sourcings["O1"]
    assert [x.line_id for x in kept.order_lines] == ["O1-1"]


async def test_an_order_with_no_line_that_ships_is_fulfilled_at_once_and_once():
    uow = new_uow()
    await seed(uow, [node("N1", 1)], [("N1", "COUPON", 5)])
    order = accepted("O1", {"COUPON": 1, "CLASS": 1}, virtual={"COUPON", "CLASS"})
    await service.on_order_events(uow, [order])
    assert types(uow, "O1") == ["fulfillment.order-fulfilled"]
    (done,) = [e for e in uow.of_type("fulfillment.order-fulfilled")]
    assert done.data.order_id == "O1" and done.data.fulfilled_at.tzinfo is not None
    assert not uow.repo.tasks
    kept = uow.repo.sourcings["O1"]
    assert (kept.status, kept.reason, kept.reservations) == (SourcingStatus.FULFILLED, NOTHING_TO_SHIP, [])

    # Redelivered (the same event, or the OMS sending it again), then cancelled: nothing changes.
    before = len(uow.committed_events)
    await service.on_order_events(uow, [order])
    await service.on_order_events(uow, [accepted("O1", {"COUPON": 1}, virtual={"COUPON"})])
    await service.on_order_events(uow, [cancelled("O1")])
    assert len(uow.committed_events) == before
    assert uow.repo.sourcings["O1"].status is SourcingStatus.FULFILLED


async def test_nothing_to_ship_in_a_batch_with_orders_that_ship():
    uow = new_uow()
    await seed(uow, [node("N1", 1)], [("N1", "A", 5)])
    await service.on_order_events(
        uow,
        [accepted("O1", {"A": 1}), accepted("O2", {"V": 1}, virtual={"V"}), accepted("O3", {"A": 1})],
    )
    assert [r.order_id for r in requests(uow, "O1") + requests(uow, "O3")] == ["O1", "O3"]
    assert types(uow, "O2") == ["fulfillment.order-fulfilled"]
    await service.on_reservation_replies(uow, [reserved(requests(uow, "O1")[0])])
    (task,) = uow.repo.tasks.values()
    assert task.status is TaskStatus.ASSIGNED and task.group is None
