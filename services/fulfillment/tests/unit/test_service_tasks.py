"""Tasks and nodes on a fake unit of work: staff accept, ship or hand over within their node's scope; the
shipment names the order lines its units fulfil (split when a task line covers several); the order is
fulfilled with its last task."""

from __future__ import annotations

from typing import Any

import pytest
from fulfillment_fakes import accepted, new_uow, node, reserved, stock_changed
from task_support import ready

from omni_fulfillment import service
from omni_fulfillment.domain.errors import Conflict, Forbidden, Invalid, NotFound
from omni_fulfillment.domain.nodes import NodeType
from omni_fulfillment.domain.tasks import TaskStatus


async def allocate(uow: Any, order_env: Any) -> dict[str, str]:
    """Source the order, reserve every request; {node: task id}."""
    await service.on_order_events(uow, [order_env])
    oid = order_env.data.order_id
    for e in uow.of_type("fulfillment.reservation-requested"):
        if e.key == oid:
            await service.on_reservation_replies(uow, [reserved(e.data)])
    return {t.node_code: t.task_id for t in uow.repo.tasks.values() if t.order_id == oid}


def lines_of(event: Any) -> list[tuple[str | None, str, int]]:
    return [(x.line_id, x.material_code, x.qty) for x in event.lines]


async def seed(uow: Any, nodes: list[Any], stock: list[tuple[str, str, int]]) -> None:
    for n in nodes:
        await service.put_node(uow, n)
    await service.on_stock_changed(uow, [stock_changed(n, m, q) for n, m, q in stock])


async def test_a_shipment_names_its_order_lines_and_carries_the_split():
    """Two order lines of material A (2 + 3) and one of B; no node holds 5 A: N1 ships 4 A and the B,
    N2 ships 1 A. The first order line goes whole to N1, the second is split 2 / 1."""
    uow = new_uow()
    await seed(uow, [node("N1", 1), node("N2", 2)], [("N1", "A", 4), ("N1", "B", 1), ("N2", "A", 1)])
    tasks = await allocate(uow, accepted("O1", [("A", 2), ("B", 1), ("A", 3)]))
    assert sorted(tasks) == ["N1", "N2"]
    kept = uow.repo.tasks[tasks["N1"]]
    assert [(p.line_id, p.material_code, p.qty) for p in kept.order_lines] == [
        ("O1-0", "A", 2),
        ("O1-2", "A", 2),
        ("O1-1", "B", 1),
    ]

    for n, (carrier, no) in {"N1": ("SF", "SF1"), "N2": ("YTO", "Y1")}.items():
        await service.accept_task(uow, tasks[n], "s1", n)
        done = await service.ship_task(uow, tasks[n], carrier, no, n)
        assert done.status is TaskStatus.SHIPPED and done.tracking_no == no
    first, second = (e.data for e in uow.of_type("fulfillment.shipped"))
    assert all(e.event_version == 2 for e in uow.of_type("fulfillment.shipped"))
    assert lines_of(first) == [("O1-0", "A", 2), ("O1-2", "A", 2), ("O1-1", "B", 1)]
    assert lines_of(second) == [("O1-2", "A", 1)]
    assert (second.reservation_id, second.carrier) == ("O1:1:N2", "YTO")
    # Every unit of every order line shipped once.
    per_line: dict[str, int] = {}
    for e in (first, second):
        for x in e.lines:
            per_line[x.line_id] = per_line.get(x.line_id, 0) + x.qty
    assert per_line == {"O1-0": 2, "O1-1": 1, "O1-2": 3}
    (fulfilled,) = [e.data for e in uow.of_type("fulfillment.order-fulfilled")]
    assert fulfilled.order_id == "O1" and uow.repo.sourcings["O1"].status.value == "fulfilled"


async def test_not_fulfilled_while_a_task_is_open():
    uow = new_uow()
    await seed(uow, [node("N1", 1), node("N2", 2)], [("N1", "A", 1), ("N2", "B", 1)])
    tasks = await allocate(uow, accepted("O1", {"A": 1, "B": 1}))
    await service.accept_task(uow, tasks["N1"], "s1", None)
    await service.ship_task(uow, tasks["N1"], "SF", "SF1", None)
    assert not uow.of_type("fulfillment.order-fulfilled")


async def test_pickup_with_the_buyers_code_names_the_order_line():
    uow = new_uow()
    await seed(
        uow, [node("WH", 1, priority=100), node("ST", 50, type="store")], [("WH", "A", 9), ("ST", "A", 2)]
    )
    tasks = await allocate(uow, accepted("O1", {"A": 2}, delivery="store_pickup", pickup_node="ST"))
    (task_id,) = tasks.values()
    code = uow.repo.tasks[task_id].pickup_code
    assert tasks == {"ST": task_id} and len(code) == 6 and code.isdigit()
    await service.accept_task(uow, task_id, "s1", "ST")
    with pytest.raises(Conflict, match="store pickup"):
        await service.ship_task(uow, task_id, "SF", "X", "ST")
    with pytest.raises(Conflict, match="only a task ready for pickup can be picked up"):
        await service.pickup_task(uow, task_id, code, "ST")
    await ready(uow, task_id, "ST")  # the buyer is sent the code
    (sent,) = uow.of_type("fulfillment.pickup-code-issued")
    assert (sent.data.pickup_code, sent.data.channel, sent.data.sent) == (code, "tmall", 1)
    with pytest.raises(Invalid, match=f"the pickup code does not match task {task_id}"):
        await service.pickup_task(uow, task_id, f"{(int(code) + 1) % 1_000_000:06d}", "ST")
    done = await service.pickup_task(uow, task_id, code, "ST")
    assert done.status is TaskStatus.PICKED_UP
    (picked,) = uow.of_type("fulfillment.picked-up")
    assert picked.event_version == 2 and lines_of(picked.data) == [("O1-0", "A", 2)]
    assert [e.data.order_id for e in uow.of_type("fulfillment.order-fulfilled")] == ["O1"]


async def test_staff_work_only_their_nodes_tasks():
    uow = new_uow()
    await seed(uow, [node("WH", 1), node("ST", 2, type="store")], [("WH", "A", 5), ("ST", "B", 5)])
    tasks = await allocate(uow, accepted("O1", {"A": 1, "B": 1}))
    with pytest.raises(Forbidden, match=f"task {tasks['WH']} belongs to node WH"):
        await service.get_task(uow, tasks["WH"], "ST")
    with pytest.raises(Forbidden):
        await service.accept_task(uow, tasks["WH"], "s1", "ST")
    assert uow.repo.tasks[tasks["WH"]].status is TaskStatus.ASSIGNED
    with pytest.raises(Forbidden, match="you may only list the tasks of node ST, not of node WH"):
        await service.list_tasks(
            uow, scope="ST", node_code="WH", status=None, order_id=None, limit=50, offset=0
        )
    mine, total = await service.list_tasks(
        uow, scope="ST", node_code=None, status=None, order_id=None, limit=50, offset=0
    )
    assert total == 1 and [t.task_id for t in mine] == [tasks["ST"]]
    everything, total = await service.list_tasks(
        uow, scope=None, node_code=None, status=None, order_id="O1", limit=1, offset=0
    )
    assert total == 2 and len(everything) == 1
    with pytest.raises(NotFound):
        await service.get_task(uow, "T-nope", None)
    await service.accept_task(uow, tasks["ST"], "s1", "ST")
    with pytest.raises(Conflict, match="accepted by s1"):
        await service.accept_task(uow, tasks["ST"], "s2", "ST")


async def test_nodes_created_replaced_deactivated_and_published():
    uow = new_uow()
    await service.create_node(uow, node("WH", 1))
    with pytest.raises(Conflict, match=r"node WH already exists \(PUT /nodes/WH replaces it\)"):
        await service.create_node(uow, node("WH", 2))
    assert await service.put_node(uow, node("ST", 1, type="store")) is True
    assert await service.put_node(uow, node("ST", 3, type="store", priority=2)) is False
    off = await service.deactivate_node(uow, "WH")
    assert off.active is False and (await service.get_node(uow, "WH")).active is False
    with pytest.raises(NotFound, match="node NOPE does not exist"):
        await service.deactivate_node(uow, "NOPE")
    found, total = await service.list_nodes(uow, type=NodeType.STORE, active=None, limit=50, offset=0)
    assert total == 1 and [n.code for n in found] == ["ST"]
    events = [(e.data.node_code, e.data.active) for e in uow.of_type("fulfillment.node.upserted")]
    assert events == [("WH", True), ("ST", True), ("ST", True), ("WH", False)]


async def test_a_deactivated_node_is_never_planned():
    uow = new_uow()
    await seed(uow, [node("NEAR", 1, active=False), node("FAR", 9)], [("NEAR", "A", 9), ("FAR", "A", 9)])
    await service.on_order_events(uow, [accepted("O1", {"A": 1})])
    (request,) = [e.data for e in uow.of_type("fulfillment.reservation-requested")]
    assert request.node_code == "FAR"


async def test_the_stock_projection_keeps_the_newest_seq():
    uow = new_uow()
    await service.on_stock_changed(uow, [stock_changed("N1", "A", 5, 3), stock_changed("N1", "A", 7, 2)])
    await service.on_stock_changed(uow, [stock_changed("N1", "A", 1, 1), stock_changed("N1", "B", 4, 1)])
    assert await service.stock_view(uow, "N1", "A") == (5, 3)
    assert await service.stock_view(uow, "N1", "B") == (4, 1)
    with pytest.raises(NotFound, match="no stock known for C at N1"):
        await service.stock_view(uow, "N1", "C")
