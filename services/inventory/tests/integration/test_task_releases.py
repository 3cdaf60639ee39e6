"""A store gives a task's units back, on PostgreSQL (service/task_releases.py): a partial rejection out of
stock releases its units from the reservation and sets the store's available of that material to 0 (on
hand down to what other orders hold: an `adjustment` ledger row, stock-changed staged), the shipment then
consumes only the rest; a reassignment releases the reservation whole."""

from __future__ import annotations

import pytest
from inventory_helpers import handle, outbox, receive, requested, rows, shipped, stock_of, uid

from omni_contracts import make_envelope, utcnow
from omni_contracts.events.fulfillment_tasks import ReleasedLine, TaskReassignedV1, TaskRejectedV1

pytestmark = pytest.mark.integration


async def test_a_partial_rejection_out_of_stock_releases_its_units_and_zeroes_the_store(db):
    node, a, b = uid("ST"), uid("A"), uid("B")
    await receive(db, node, {a: 5, b: 5})
    order, other = uid("O"), uid("O")
    rid = f"{order}:1:{node}"
    await handle(db, requested(rid, order, node, {a: 2, b: 1}))
    await handle(db, requested(f"{other}:1:{node}", other, node, {a: 1}))
    rejected = TaskRejectedV1(
        task_id="T1", order_id=order, node_code=node, reservation_id=rid, reason_code="out_of_stock",
        reason="out of stock", lines=[ReleasedLine(material_code=a, qty=2, line_id=f"{order}-0")],
        whole=False, stock_out=[a], count_requested=[a], next="next_best_node", rejected_at=utcnow(),
    )  # fmt: skip
    env = make_envelope(rejected, producer="fulfillment", key=order)
    await handle(db, env)
    row = await stock_of(db, node, a)
    assert (row.on_hand, row.reserved, row.frozen) == (1, 1, 0), "what the other order holds stays"
    (res,) = await rows(db, "SELECT status, lines FROM reservations WHERE reservation_id = :r", r=rid)
    assert (res.status, res.lines) == ("reserved", [{"material_code": b, "qty": 1}])
    ledger = await rows(db, "SELECT kind, reference, delta_on_hand, delta_reserved FROM movements "
                        "WHERE node_code = :n AND material_code = :m ORDER BY id", n=node, m=a)  # fmt: skip
    assert [tuple(x) for x in ledger][-2:] == [("release", rid, 0, -2), ("adjustment", "stockout:T1", -4, 0)]
    staged = await outbox(db, "inventory.stock-changed", key=f"{node}:{a}")
    assert (staged[-1]["data"]["available"], staged[-1]["causation_id"]) == (0, str(env.event_id))
    await handle(db, shipped(rid, order, node, {b: 1}))
    assert (await stock_of(db, node, b)).on_hand == 4


async def test_a_reassignment_releases_the_reservation_whole(db):
    node, a = uid("ST"), uid("A")
    await receive(db, node, {a: 3})
    order = uid("O")
    rid = f"{order}:1:{node}"
    await handle(db, requested(rid, order, node, {a: 2}))
    moved = TaskReassignedV1(
        task_id="T1", order_id=order, node_code=node, reservation_id=rid,
        lines=[ReleasedLine(material_code=a, qty=2)], sla_s=1800, reason="not accepted within 30 min",
        reassigned_at=utcnow(),
    )  # fmt: skip
    await handle(db, make_envelope(moved, producer="fulfillment", key=order))
    row = await stock_of(db, node, a)
    assert (row.on_hand, row.reserved) == (3, 0)
    (res,) = await rows(db, "SELECT status FROM reservations WHERE reservation_id = :r", r=rid)
    assert res.status == "released"
    assert [
        e["data"]["reservation_id"] for e in await outbox(db, "inventory.reservation-released", key=order)
    ] == [rid]
