"""A partial refund before shipment on the real database and broker: its units come off the task's rows (the
shipment then carries the rest), the case is recorded once in `intercepts`, an order still being sourced
is intercepted when it is allocated; and the `fulfillment-orders` consumer takes order.refund-approved."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pytest

from omni_chassis.testing import eventually, running_consumers
from omni_fulfillment import consumers, service, store

sys.path.insert(0, str(Path(__file__).parent))
from fulfillment_support import (
    MIGRATIONS,
    accepted,
    node,
    outbox,
    publish,
    refund_approved,
    reserved,
    rows,
    seed_nodes,
    seed_stock,
    uid,
    uow,
)

pytestmark = pytest.mark.integration


@pytest.fixture
async def db(make_database):
    return await make_database("fulfillment", migrations=MIGRATIONS)


async def allocated_order(db, wh: str, lines: dict[str, int]) -> tuple[str, str]:
    """An order of `lines` accepted and reserved at `wh`; (order id, task id)."""
    order_id = f"O-{uid()}"
    await service.on_order_events(uow(db), [accepted(order_id, lines)])
    (request,) = await outbox(db, "fulfillment.reservation-requested", key=order_id)
    await service.on_reservation_replies(uow(db), [reserved(request)])
    (task,) = await rows(db, "SELECT task_id FROM tasks WHERE order_id = :o", o=order_id)
    return order_id, task.task_id


async def test_the_refunded_units_leave_the_task_rows_once_and_the_shipment_carries_the_rest(db):
    x = uid()
    wh, a, b = f"WH-{x}", f"A-{x}", f"B-{x}"
    await seed_nodes(db, node(wh, km=1))
    await seed_stock(db, [(wh, a, 5), (wh, b, 5)])
    order_id, task_id = await allocated_order(db, wh, {a: 1, b: 2})

    refund = refund_approved(order_id, f"C-{x}", [(f"{order_id}-1", b, 1)])
    await service.on_order_events(uow(db), [refund])
    again = refund_approved(order_id, f"C-{x}", [(f"{order_id}-1", b, 1)])  # the same case, a new event
    await service.on_order_events(uow(db), [again])

    (ev,) = await outbox(db, "fulfillment.lines-intercepted", key=order_id)
    assert ev["intercepted"] == [
        {"line_id": f"{order_id}-1", "material_code": b, "qty": 1, "task_id": task_id, "node_code": wh,
         "reservation_id": f"{order_id}:1:{wh}", "task_cancelled": False}
    ]  # fmt: skip
    assert ev["not_intercepted"] == []
    (task,) = await rows(db, "SELECT status, lines, order_lines FROM tasks WHERE task_id = :t", t=task_id)
    assert task.status == "assigned"
    assert task.lines == [{"material_code": a, "qty": 1}, {"material_code": b, "qty": 1}]
    assert task.order_lines == [
        {"line_id": f"{order_id}-0", "material_code": a, "qty": 1},
        {"line_id": f"{order_id}-1", "material_code": b, "qty": 1},
    ]
    (case,) = await rows(db, "SELECT status, intercepted FROM intercepts WHERE case_id = :c", c=f"C-{x}")
    assert case.status == "done" and case.intercepted == ev["intercepted"]

    await service.accept_task(uow(db), task_id, "s1", None)
    await service.ship_task(uow(db), task_id, "SF", "SF1", None)
    (shipped,) = await outbox(db, "fulfillment.shipped", key=order_id)
    assert shipped["lines"] == [
        {"line_id": f"{order_id}-0", "material_code": a, "qty": 1},
        {"line_id": f"{order_id}-1", "material_code": b, "qty": 1},
    ]


async def test_a_refund_while_sourcing_waits_and_applies_with_the_allocation(db):
    x = uid()
    wh, a, b = f"WH-{x}", f"A-{x}", f"B-{x}"
    await seed_nodes(db, node(wh, km=1))
    await seed_stock(db, [(wh, a, 5), (wh, b, 5)])
    order_id = f"O-{x}"
    await service.on_order_events(uow(db), [accepted(order_id, {a: 1, b: 1})])
    await service.on_order_events(uow(db), [refund_approved(order_id, f"C-{x}", [(f"{order_id}-1", b, 1)])])
    (case,) = await rows(db, "SELECT status FROM intercepts WHERE case_id = :c", c=f"C-{x}")
    assert case.status == "pending"
    assert await outbox(db, "fulfillment.lines-intercepted", key=order_id) == []

    (request,) = await outbox(db, "fulfillment.reservation-requested", key=order_id)
    await service.on_reservation_replies(uow(db), [reserved(request)])
    (ev,) = await outbox(db, "fulfillment.lines-intercepted", key=order_id)
    (task,) = await rows(db, "SELECT task_id, lines FROM tasks WHERE order_id = :o", o=order_id)
    assert [(i["task_id"], i["qty"]) for i in ev["intercepted"]] == [(task.task_id, 1)]
    assert task.lines == [{"material_code": a, "qty": 1}]
    (case,) = await rows(db, "SELECT status FROM intercepts WHERE case_id = :c", c=f"C-{x}")
    assert case.status == "done"


async def test_the_orders_consumer_takes_the_refund(kafka_bootstrap, make_database, fresh_topic):
    db = await make_database("fulfillment", migrations=MIGRATIONS)
    topic, tag = await fresh_topic(), uid()
    (spec,) = [s for s in consumers.specs() if s.group == consumers.ORDERS_GROUP]
    assert "order.refund-approved" in spec.event_types
    x = uid()
    wh, a, b = f"WH-{x}", f"A-{x}", f"B-{x}"
    await seed_nodes(db, node(wh, km=1))
    await seed_stock(db, [(wh, a, 5), (wh, b, 5)])
    order_id, task_id = await allocated_order(db, wh, {a: 1, b: 1})
    moved = dataclasses.replace(spec, topics=[topic], group=f"{spec.group}-{tag}")
    async with running_consumers(kafka_bootstrap, db, [moved], repository=store.Repository):
        await publish(kafka_bootstrap, topic, refund_approved(order_id, f"C-{x}", [(f"{order_id}-0", a, 1)]))

        async def intercepted():
            return await outbox(db, "fulfillment.lines-intercepted", key=order_id)

        (ev,) = await eventually(intercepted)
    assert [(i["line_id"], i["task_id"]) for i in ev["intercepted"]] == [(f"{order_id}-0", task_id)]
    (task,) = await rows(db, "SELECT lines FROM tasks WHERE task_id = :t", t=task_id)
    assert task.lines == [{"material_code": b, "qty": 1}]
