"""The consumers on the real broker (fresh topics, unique groups) and the real database: the whole sourcing
conversation with inventory, which this test plays by publishing its replies."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pytest

from omni_chassis.testing import eventually, running_consumers
from omni_fulfillment import consumers, store

sys.path.insert(0, str(Path(__file__).parent))
from fulfillment_support import (
    MIGRATIONS,
    accepted,
    node,
    outbox,
    publish,
    refused,
    reserved,
    rows,
    seed_nodes,
    stock_changed,
    uid,
)

pytestmark = pytest.mark.integration


@pytest.fixture
async def wired(kafka_bootstrap, make_database, fresh_topic):
    """A fresh database, three fresh topics standing for omni.order / omni.inventory / the stock stream, and
    the service's own consumer specs moved onto them."""
    db = await make_database("fulfillment", migrations=MIGRATIONS)
    topics = {"orders": await fresh_topic(), "replies": await fresh_topic(), "stock": await fresh_topic()}
    tag = uid()
    by_group = {
        consumers.ORDERS_GROUP: "orders",
        consumers.RESERVATIONS_GROUP: "replies",
        consumers.STOCK_GROUP: "stock",
    }
    specs = [
        dataclasses.replace(s, topics=[topics[by_group[s.group]]], group=f"{s.group}-{tag}")
        for s in consumers.specs(max_attempts=3)
    ]
    assert len(specs) == 3
    async with running_consumers(kafka_bootstrap, db, specs, repository=store.Repository):
        yield db, topics


async def _requests(db, order_id, n):
    async def check():
        found = await outbox(db, "fulfillment.reservation-requested", key=order_id)
        return found if len(found) >= n else None

    return await eventually(check)


async def test_accepted_reserved_allocated(kafka_bootstrap, wired):
    db, topics = wired
    x = uid()
    wh, st, far = f"WH-{x}", f"ST-{x}", f"FAR-{x}"
    a, b = f"A-{x}", f"B-{x}"
    await seed_nodes(db, node(wh, km=30, priority=10), node(st, km=2, type="store"), node(far, km=900))

    # The stock stream: the newest seq wins, whatever order the events come in.
    await publish(
        kafka_bootstrap,
        topics["stock"],
        stock_changed(st, a, 5, seq=2),
        stock_changed(st, a, 99, seq=1),  # older, arrives later: ignored
        stock_changed(wh, a, 5, seq=1),
        stock_changed(wh, b, 5, seq=1),
        stock_changed(far, b, 9, seq=3),
    )

    async def projected():
        got = await rows(db, "SELECT node_code, material_code, available, seq FROM stock ORDER BY 1, 2")
        return got if len(got) == 4 else None

    assert {(r.node_code, r.material_code): (r.available, r.seq) for r in await eventually(projected)} == {
        (st, a): (5, 2),
        (wh, a): (5, 1),
        (wh, b): (5, 1),
        (far, b): (9, 3),
    }

    # Whole order at one node: the warehouse has A and B, the nearer store only A.
    order_id = f"O-{x}"
    await publish(kafka_bootstrap, topics["orders"], accepted(order_id, {a: 2, b: 1}))
    (request,) = await _requests(db, order_id, 1)
    assert request == {
        "reservation_id": f"{order_id}:1:{wh}",
        "order_id": order_id,
        "node_code": wh,
        "lines": [{"material_code": a, "qty": 2}, {"material_code": b, "qty": 1}],
        "attempt": 1,
    }

    await publish(kafka_bootstrap, topics["replies"], reserved(request))

    async def allocated():
        return await outbox(db, "fulfillment.order-allocated", key=order_id)

    (allocation,) = await eventually(allocated)
    (task_ref,) = allocation["tasks"]
    assert task_ref["node_code"] == wh and task_ref["kind"] == "ship"
    assert task_ref["reservation_id"] == request["reservation_id"]
    (task,) = await rows(db, "SELECT * FROM tasks WHERE order_id = :o", o=order_id)
    assert (task.task_id, task.status, task.kind, task.pickup_code) == (
        task_ref["task_id"],
        "assigned",
        "ship",
        None,
    )
    (state,) = await rows(db, "SELECT status, attempt FROM sourcing WHERE order_id = :o", o=order_id)
    assert (state.status, state.attempt) == ("allocated", 1)


async def test_refusals_replan_elsewhere_and_end_unfulfillable_after_three_attempts(kafka_bootstrap, wired):
    db, topics = wired
    x = uid()
    n1, n2, n3, n4 = (f"N{i}-{x}" for i in range(1, 5))
    a = f"A-{x}"
    await seed_nodes(db, node(n1, km=1), node(n2, km=2), node(n3, km=3), node(n4, km=4))
    await publish(
        kafka_bootstrap, topics["stock"], *(stock_changed(n, a, 2, seq=1) for n in (n1, n2, n3, n4))
    )

    async def projected():
        return len(await rows(db, "SELECT 1 FROM stock")) == 4

    await eventually(projected)

    # 1) A refusal re-plans the refused lines at the next best node, with a new attempt, and that one holds.
    o1 = f"O1-{x}"
    await publish(kafka_bootstrap, topics["orders"], accepted(o1, {a: 2}))
    (first,) = await _requests(db, o1, 1)
    assert (first["node_code"], first["attempt"]) == (n1, 1)
    await publish(kafka_bootstrap, topics["replies"], refused(first, available=1))
    second = (await _requests(db, o1, 2))[1]
    assert (second["node_code"], second["attempt"], second["lines"]) == (
        n2,
        2,
        [{"material_code": a, "qty": 2}],
    )
    (n1_stock,) = await rows(db, "SELECT available FROM stock WHERE node_code = :n", n=n1)
    assert n1_stock.available == 1, "the refusal's shortfall updated the projection"
    await publish(kafka_bootstrap, topics["replies"], reserved(second), reserved(first))  # + a late one

    async def allocated():
        return await outbox(db, "fulfillment.order-allocated", key=o1)

    (allocation,) = await eventually(allocated)
    assert [t["node_code"] for t in allocation["tasks"]] == [n2]

    # 2) Refused at every attempt: unfulfillable after the third, with the shortfall; no fourth request.
    o2 = f"O2-{x}"
    await publish(kafka_bootstrap, topics["orders"], accepted(o2, {a: 1}))
    for attempt in (1, 2, 3):
        request = (await _requests(db, o2, attempt))[attempt - 1]
        assert request["attempt"] == attempt
        await publish(kafka_bootstrap, topics["replies"], refused(request))

    async def given_up():
        return await outbox(db, "fulfillment.order-unfulfillable", key=o2)

    (verdict,) = await eventually(given_up)
    assert verdict["attempts"] == 3
    assert verdict["shortfall"] == [{"material_code": a, "requested": 1, "available": 0}]
    assert (
        "refused the reservation" in verdict["reason"]
        and "no attempt left (3 of 3 used)" in verdict["reason"]
    )
    assert len(await outbox(db, "fulfillment.reservation-requested", key=o2)) == 3
    (state,) = await rows(db, "SELECT status, excluded FROM sourcing WHERE order_id = :o", o=o2)
    assert state.status == "unfulfillable" and len(state.excluded) == 3
    assert not await rows(db, "SELECT 1 FROM tasks WHERE order_id = :o", o=o2)
    # The late reply of o1 (first, already refused) changed nothing: one task, one allocation.
    assert len(await rows(db, "SELECT 1 FROM tasks WHERE order_id = :o", o=o1)) == 1
