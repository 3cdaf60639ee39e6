"""The consumers on the real broker (fresh topics, unique groups) and the real database: the whole sourcing
conversation with inventory, which this test plays by publishing its replies."""

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
    cancelled,
    node,
    outbox,
    publish,
    refused,
    reserved,
    rows,
    seed_nodes,
    stock_changed,
    uid,
    uow,
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
        if s.group in by_group  # the carrier routing's own groups are tested in test_carriers.py
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


async def test_split_by_type_and_lines_that_do_not_ship(kafka_bootstrap, wired):
    """A cold-chain line and normal lines at one node: two reservations and two tasks there, each shipped on
    its own; a virtual line beside a normal one: one task with the normal line only; an order of virtual
    lines only: fulfilled at once, nothing reserved; redelivered acceptances change nothing."""
    db, topics = wired
    x = uid()
    wh = f"WH-{x}"
    a, b, c, v, w = (f"{m}-{x}" for m in ("A", "B", "C", "V", "W"))
    await seed_nodes(db, node(wh, km=5))
    await publish(kafka_bootstrap, topics["stock"], *(stock_changed(wh, m, 9, seq=1) for m in (a, b, c)))

    async def projected():
        return len(await rows(db, "SELECT 1 FROM stock WHERE node_code = :n", n=wh)) == 3

    await eventually(projected)
    o1, o2, o3 = f"O1-{x}", f"O2-{x}", f"O3-{x}"
    split = accepted(o1, {a: 2, c: 1, b: 1}, groups={c: "cold_chain"})
    mixed = accepted(o2, {v: 1, a: 1}, virtual={v})
    nothing = accepted(o3, {v: 1, w: 2}, virtual={v, w})
    await publish(kafka_bootstrap, topics["orders"], split, mixed, nothing)

    async def types(order_id):
        sql = "SELECT event_type FROM outbox WHERE key = :k ORDER BY id"
        return [r.event_type for r in await rows(db, sql, k=order_id)]

    async def fulfilled(order_id):
        return await outbox(db, "fulfillment.order-fulfilled", key=order_id)

    (done,) = await eventually(lambda: fulfilled(o3))
    assert done["order_id"] == o3 and await types(o3) == ["fulfillment.order-fulfilled"]
    (state,) = await rows(db, "SELECT status, lines FROM sourcing WHERE order_id = :o", o=o3)
    assert (state.status, state.lines) == ("fulfilled", [])

    main, cold = await _requests(db, o1, 2)
    assert (main["reservation_id"], main["lines"]) == (
        f"{o1}:1:{wh}",
        [{"material_code": a, "qty": 2}, {"material_code": b, "qty": 1}],
    )
    assert (cold["reservation_id"], cold["lines"]) == (
        f"{o1}:1:{wh}:cold_chain",
        [{"material_code": c, "qty": 1}],
    )
    (only_a,) = await _requests(db, o2, 1)
    assert only_a["lines"] == [{"material_code": a, "qty": 1}]
    await publish(kafka_bootstrap, topics["replies"], reserved(cold), reserved(main), reserved(only_a))

    async def allocated(order_id):
        return await outbox(db, "fulfillment.order-allocated", key=order_id)

    (allocation,) = await eventually(lambda: allocated(o1))
    assert [(t["node_code"], t["reservation_id"]) for t in allocation["tasks"]] == [
        (wh, main["reservation_id"]),
        (wh, cold["reservation_id"]),
    ]
    sql = "SELECT task_id, line_group, lines, order_lines FROM tasks WHERE order_id = :o ORDER BY line_group"
    cold_task, main_task = await rows(db, sql, o=o1)  # NULLs sort last
    assert (cold_task.line_group, cold_task.lines) == ("cold_chain", [{"material_code": c, "qty": 1}])
    assert cold_task.order_lines == [{"line_id": f"{o1}-1", "material_code": c, "qty": 1}]
    assert main_task.line_group is None and [p["line_id"] for p in main_task.order_lines] == [
        f"{o1}-0",
        f"{o1}-2",
    ]
    (mixed_alloc,) = await eventually(lambda: allocated(o2))
    (mixed_task,) = mixed_alloc["tasks"]
    assert mixed_task["lines"] == [{"material_code": a, "qty": 1}]

    # Each task of the split order ships on its own; the order is fulfilled with the second.
    for task, no in ((cold_task, "SF-COLD"), (main_task, "SF-MAIN")):
        await service.accept_task(uow(db), task.task_id, "s1", wh)
        await service.ship_task(uow(db), task.task_id, "SF", no, wh)
        if no == "SF-COLD":
            assert not await fulfilled(o1), "the main group's task has not left yet"
    shipped = await outbox(db, "fulfillment.shipped", key=o1)
    assert [(s["tracking_no"], s["reservation_id"]) for s in shipped] == [
        ("SF-COLD", cold["reservation_id"]),
        ("SF-MAIN", main["reservation_id"]),
    ]
    assert len(await fulfilled(o1)) == 1

    # Redelivered acceptances (the same events, and the OMS sending them again), then a cancellation of
    # each as a marker: once the markers are handled, nothing else has happened.
    before = {o: await types(o) for o in (o1, o3)}
    again = [accepted(o1, {a: 2, c: 1, b: 1}, groups={c: "cold_chain"}), accepted(o3, {v: 1}, virtual={v})]
    markers = [cancelled(o1), cancelled(o3)]
    await publish(kafka_bootstrap, topics["orders"], split, nothing, *again, *markers)

    async def handled():
        ids = [str(m.event_id) for m in markers]
        return len(await rows(db, "SELECT 1 FROM inbox WHERE event_id::text = ANY(:ids)", ids=ids)) == 2

    await eventually(handled)
    assert {o: await types(o) for o in (o1, o3)} == before
    assert len(await rows(db, "SELECT 1 FROM tasks WHERE order_id = :o", o=o1)) == 2
    assert not await rows(db, "SELECT 1 FROM tasks WHERE order_id = :o", o=o3)
