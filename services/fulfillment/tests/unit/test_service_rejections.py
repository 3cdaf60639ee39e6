"""Rejections on the fake unit of work: a store gives a task (or some of its lines) back with a configured
reason; the reason's effects apply (stock to 0 and a count requested, or the store paused), the units are
re-sourced at once to the next best node with the rejecting one kept out (never manual review), only the
missing lines move, and after N re-sources the order is given up on (backorder, or hold) with its open tasks
cancelled. Every step is in the decision trace."""

from __future__ import annotations

from typing import Any

import pytest
from fulfillment_fakes import accepted, new_uow, node, reserved, stock_changed
from task_support import do, pack

from omni_contracts import utcnow
from omni_fulfillment import service
from omni_fulfillment.domain.errors import Conflict, Invalid
from omni_fulfillment.domain.reject_reasons import Next, RejectReason
from omni_fulfillment.domain.tasks import TaskStatus
from omni_fulfillment.service import task_config, task_flow
from omni_fulfillment.service.task_config import Exhausted, TaskConfig


@pytest.fixture(autouse=True)
def defaults():
    task_config.configure(TaskConfig())
    yield
    task_config.configure(TaskConfig())


async def seed(uow: Any, stock: list[tuple[str, str, int]]) -> None:
    """ST1 (a store 1 km away), ST2 (a store 5 km), WH (a warehouse 50 km)."""
    for n in (node("ST1", 1, type="store"), node("ST2", 5, type="store"), node("WH", 50)):
        await service.put_node(uow, n)
    await service.on_stock_changed(uow, [stock_changed(n, m, q) for n, m, q in stock])


async def reserve_all(uow: Any) -> None:
    """Answer every reservation request still pending: reserved."""
    for e in uow.of_type("fulfillment.reservation-requested"):
        o = uow.repo.sourcings.get(e.data.order_id)
        r = (
            next((x for x in o.reservations if x.reservation_id == e.data.reservation_id), None)
            if o
            else None
        )
        if r is not None and r.status.value == "pending":
            await service.on_reservation_replies(uow, [reserved(e.data)])


async def allocate(uow: Any, order_env: Any) -> dict[str, str]:
    await service.on_order_events(uow, [order_env])
    await reserve_all(uow)
    oid = order_env.data.order_id
    return {t.node_code: t.task_id for t in uow.repo.tasks.values() if t.order_id == oid}


def live(uow: Any, order_id: str) -> dict[str, tuple[str, list[tuple[str, int]]]]:
    """node -> (status, lines) of the order's tasks."""
    return {
        t.node_code: (t.status.value, [(x.material_code, x.qty) for x in t.lines])
        for t in uow.repo.tasks.values()
        if t.order_id == order_id
    }


async def reject(uow: Any, task_id: str, code: str, lines: list[tuple[str, int]] | None = None, **kw: Any):
    return await do(uow, task_id, task_flow.reject(code, lines, "staff-1"), "reject", **kw)


async def test_out_of_stock_zeroes_the_store_requests_a_count_and_re_sources_elsewhere():
    uow = new_uow()
    await seed(uow, [("ST1", "A", 5), ("ST2", "A", 5), ("WH", "A", 50)])
    tasks = await allocate(uow, accepted("O1", {"A": 2}))
    assert list(tasks) == ["ST1"], "the nearest store first"
    await reject(uow, tasks["ST1"], "out_of_stock")
    (ev,) = uow.of_type("fulfillment.task-rejected")
    d = ev.data
    assert (d.node_code, d.reason_code, d.whole, d.stock_out, d.count_requested, d.next) == (
        "ST1", "out_of_stock", True, ["A"], ["A"], "next_best_node",
    )  # fmt: skip
    assert [(x.line_id, x.material_code, x.qty) for x in d.lines] == [("O1-0", "A", 2)]
    assert uow.repo.stock[("ST1", "A")][0] == 0, "sourcing believes the store has none at once"
    (count,) = uow.repo.work.counts
    assert (count["node_code"], count["material_code"], count["done_at"]) == ("ST1", "A", None)
    # re-sourced at once at the next best node (ST2), ST1 kept out, in the trace
    request = uow.of_type("fulfillment.reservation-requested")[-1].data
    assert (request.node_code, request.attempt) == ("ST2", 2)
    decided = uow.of_type("fulfillment.sourcing-decided")[-1].data
    why = {n.node_code: (n.outcome, n.why) for n in decided.nodes}
    assert why["ST1"][0] == "excluded" and "rejected the task (out_of_stock" in why["ST1"][1]
    assert why["ST2"][0] == "chosen"
    assert uow.of_type("fulfillment.order-unfulfillable") == [], "never given up while a node can take it"
    await reserve_all(uow)
    assert live(uow, "O1") == {"ST1": ("rejected", [("A", 2)]), "ST2": ("assigned", [("A", 2)])}
    allocated = uow.of_type("fulfillment.order-allocated")[-1].data
    assert [t.node_code for t in allocated.tasks] == ["ST2"], "the rejected task is not the order's any more"
    (row,) = uow.repo.work.rejections
    assert (row["kind"], row["reason_code"], row["outcome"]) == (
        "rejected",
        "out_of_stock",
        "re-sourced at ST2",
    )


async def test_too_busy_pauses_the_store_and_sourcing_skips_it_until_then():
    uow = new_uow()
    await seed(uow, [("ST1", "A", 5), ("ST2", "A", 5)])
    tasks = await allocate(uow, accepted("O1", {"A": 1}))
    await reject(uow, tasks["ST1"], "too_busy")
    (ev,) = uow.of_type("fulfillment.task-rejected")
    assert ev.data.paused_until is not None and ev.data.stock_out == []
    assert "ST1" in uow.repo.work.pauses and uow.repo.stock[("ST1", "A")][0] == 5, "stock is kept"
    other = await allocate(uow, accepted("O2", {"A": 1}))
    assert list(other) == ["ST2"], "a paused store takes no new order"


async def test_a_partial_reject_re_sources_only_the_rejected_lines():
    uow = new_uow()
    await seed(uow, [("ST1", "A", 5), ("ST1", "B", 5), ("WH", "A", 50)])
    tasks = await allocate(uow, accepted("O1", {"A": 2, "B": 1}))
    await task_flow.accept_task(uow, tasks["ST1"], "s1", "ST1")
    await reject(uow, tasks["ST1"], "out_of_stock", [("A", 1)], scope="ST1")
    (ev,) = uow.of_type("fulfillment.task-rejected")
    assert (ev.data.whole, [(x.material_code, x.qty) for x in ev.data.lines]) == (False, [("A", 1)])
    request = uow.of_type("fulfillment.reservation-requested")[-1].data
    assert (request.node_code, [(x.material_code, x.qty) for x in request.lines]) == ("WH", [("A", 1)])
    await reserve_all(uow)
    assert live(uow, "O1") == {"ST1": ("accepted", [("A", 1), ("B", 1)]), "WH": ("assigned", [("A", 1)])}
    wh = next(t for t in uow.repo.tasks.values() if t.node_code == "WH")
    assert [(p.line_id, p.qty) for p in wh.order_lines] == [("O1-0", 1)], "the unit the store gave back"
    allocated = uow.of_type("fulfillment.order-allocated")[-1].data
    assert sorted(t.node_code for t in allocated.tasks) == ["ST1", "WH"], "every task the order has"
    # the order is fulfilled only when both have left
    await pack(uow, tasks["ST1"], "ST1")
    await task_flow.ship_task(uow, tasks["ST1"], "SF", "SF1", "ST1")
    assert uow.of_type("fulfillment.order-fulfilled") == []
    await task_flow.accept_task(uow, wh.task_id, "w1")
    await task_flow.ship_task(uow, wh.task_id, "SF", "SF2")
    assert [e.data.order_id for e in uow.of_type("fulfillment.order-fulfilled")] == ["O1"]


async def test_not_fulfilled_while_a_re_source_is_pending():
    uow = new_uow()
    await seed(uow, [("ST1", "A", 5), ("ST1", "B", 5), ("WH", "B", 5)])
    tasks = await allocate(uow, accepted("O1", {"A": 1, "B": 1}))
    await reject(uow, tasks["ST1"], "out_of_range", [("B", 1)])
    await task_flow.accept_task(uow, tasks["ST1"], "s1")
    await pack(uow, tasks["ST1"])
    await task_flow.ship_task(uow, tasks["ST1"], "SF", "SF1")
    assert uow.of_type("fulfillment.order-fulfilled") == [], "B is still being placed at WH"


async def test_after_n_re_sources_the_order_is_given_up_on_as_a_backorder_and_its_tasks_cancelled():
    task_config.configure(TaskConfig(max_resources=1))
    uow = new_uow()
    await seed(uow, [("ST1", "A", 5), ("ST1", "B", 5), ("ST2", "A", 5), ("WH", "A", 5)])
    tasks = await allocate(uow, accepted("O1", {"A": 1, "B": 1}))
    await reject(uow, tasks["ST1"], "out_of_range", [("A", 1)])
    await reserve_all(uow)
    moved = next(t for t in uow.repo.tasks.values() if t.node_code == "ST2")
    await reject(uow, moved.task_id, "out_of_range")  # the second give-back: no re-source left
    (gave_up,) = uow.of_type("fulfillment.order-unfulfillable")
    assert "no re-source left (1 of 1 used)" in gave_up.data.reason
    assert [(s.material_code, s.requested, s.available) for s in gave_up.data.shortfall] == [("A", 1, 0)]
    assert uow.repo.tasks[tasks["ST1"]].status is TaskStatus.CANCELLED, "its open tasks are cancelled"
    decided = uow.of_type("fulfillment.sourcing-decided")[-1].data
    assert decided.result == "unfulfillable" and "no re-source left" in decided.reason
    assert uow.repo.sourcings["O1"].status.value == "unfulfillable", "an OMS retry sources it again"


async def test_the_hold_policy_gives_up_without_a_shortfall():
    task_config.configure(TaskConfig(max_resources=0, exhausted=Exhausted.HOLD))
    uow = new_uow()
    await seed(uow, [("ST1", "A", 5), ("ST2", "A", 5)])
    tasks = await allocate(uow, accepted("O1", {"A": 1}))
    await reject(uow, tasks["ST1"], "out_of_range")
    (gave_up,) = uow.of_type("fulfillment.order-unfulfillable")
    assert gave_up.data.shortfall == [], "the OMS holds it for an operator (exception), not a backorder"


async def test_nothing_left_anywhere_is_a_backorder_with_the_real_shortfall():
    uow = new_uow()
    await seed(uow, [("ST1", "A", 5)])
    tasks = await allocate(uow, accepted("O1", {"A": 2}))
    await reject(uow, tasks["ST1"], "out_of_stock")
    (gave_up,) = uow.of_type("fulfillment.order-unfulfillable")
    assert "re-sourcing its lines failed" in gave_up.data.reason
    assert [(s.material_code, s.requested) for s in gave_up.data.shortfall] == [("A", 2)]


async def test_a_reason_may_send_the_lines_to_a_warehouse_or_to_backorder():
    uow = new_uow()
    await seed(uow, [("ST1", "A", 5), ("ST2", "A", 5), ("WH", "A", 5)])
    await uow.repo.save_reason(RejectReason("heavy", "too heavy", next=Next.WAREHOUSES_ONLY), None, utcnow())
    await uow.repo.save_reason(RejectReason("recall", "recalled", next=Next.BACKORDER), None, utcnow())
    tasks = await allocate(uow, accepted("O1", {"A": 1}))
    await reject(uow, tasks["ST1"], "heavy")
    request = uow.of_type("fulfillment.reservation-requested")[-1].data
    assert request.node_code == "WH", "ST2 is nearer, but a store"
    decided = uow.of_type("fulfillment.sourcing-decided")[-1].data
    assert {n.node_code: n.outcome for n in decided.nodes}["ST2"] == "excluded"
    (other,) = (await allocate(uow, accepted("O2", {"A": 1}))).values()
    await reject(uow, other, "recall")
    (gave_up,) = uow.of_type("fulfillment.order-unfulfillable")
    assert gave_up.data.order_id == "O2" and "wait for stock (backorder)" in gave_up.data.reason


async def test_a_reject_needs_an_active_reason_and_an_open_task():
    uow = new_uow()
    await seed(uow, [("ST1", "A", 5), ("ST2", "A", 5)])
    tasks = await allocate(uow, accepted("O1", {"A": 2}))
    with pytest.raises(Invalid, match="nope is not an active reject reason"):
        await reject(uow, tasks["ST1"], "nope")
    with pytest.raises(Invalid, match="holds 2 of A: 3 cannot be given back"):
        await reject(uow, tasks["ST1"], "out_of_stock", [("A", 3)])
    assert uow.of_type("fulfillment.task-rejected") == [], "a refused reject changes nothing"
    await task_flow.accept_task(uow, tasks["ST1"], "s1")
    await pack(uow, tasks["ST1"])
    with pytest.raises(Conflict, match="only an assigned, accepted or picking task"):
        await reject(uow, tasks["ST1"], "out_of_stock")


async def test_a_shortage_that_gives_the_order_up_cancels_the_task_it_was_packing():
    task_config.configure(TaskConfig(max_resources=0))
    uow = new_uow()
    await seed(uow, [("ST1", "A", 5), ("ST1", "B", 5), ("WH", "A", 5)])
    tasks = await allocate(uow, accepted("O1", {"A": 2, "B": 1}))
    await task_flow.accept_task(uow, tasks["ST1"], "s1")
    await do(uow, tasks["ST1"], task_flow.pick([("A", 1), ("B", 1)], None), "pick")
    done = await pack(uow, tasks["ST1"], shortage=True)
    assert done.task.status is TaskStatus.CANCELLED, "the order was given up on: nothing is packed"
    assert len(uow.of_type("fulfillment.order-unfulfillable")) == 1


async def test_an_order_sourced_again_after_a_give_up_has_a_new_budget_of_re_sources():
    task_config.configure(TaskConfig(max_resources=1))
    uow = new_uow()
    await seed(uow, [("ST1", "A", 5), ("ST2", "A", 5), ("WH", "A", 5)])
    first = accepted("O1", {"A": 1})
    tasks = await allocate(uow, first)
    await reject(uow, tasks["ST1"], "out_of_range")
    await reserve_all(uow)
    moved = next(t for t in uow.repo.tasks.values() if t.node_code == "ST2")
    await reject(uow, moved.task_id, "out_of_range")
    assert len(uow.of_type("fulfillment.order-unfulfillable")) == 1
    again = accepted("O1", {"A": 1})  # the OMS re-sources its backorder: a new acceptance
    await service.on_order_events(uow, [again])
    await reserve_all(uow)
    fresh = [t for t in uow.repo.tasks.values() if t.status is TaskStatus.ASSIGNED]
    assert len(fresh) == 1
    await reject(uow, fresh[0].task_id, "out_of_range")
    assert len(uow.of_type("fulfillment.order-unfulfillable")) == 1, "re-sourced: the budget is new"
    last = uow.of_type("fulfillment.reservation-requested")[-1].data
    assert last.node_code != fresh[0].node_code and uow.repo.sourcings["O1"].status.value == "sourcing"
