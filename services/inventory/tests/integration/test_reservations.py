"""Reservations, shipments and releases on the real PostgreSQL, through the consumers' batch handler."""

from __future__ import annotations

import asyncio

import pytest
from inventory_helpers import (
    cancelled,
    handle,
    outbox,
    picked_up,
    receive,
    requested,
    rows,
    shipped,
    stock_of,
    uid,
    unfulfillable,
    uow,
)
from sqlalchemy.exc import IntegrityError

from omni_chassis.consumer import PermanentError
from omni_inventory import consumers, service

pytestmark = pytest.mark.integration


async def test_all_lines_are_reserved_together_with_ledger_and_events(db):
    node, order, rid = uid("WH"), uid("O"), uid("R")
    await receive(db, node, {"A": 5, "B": 2})

    await handle(db, requested(rid, order, node, {"B": 2, "A": 3}))

    a, b = await stock_of(db, node, "A"), await stock_of(db, node, "B")
    assert (a.on_hand, a.reserved, a.seq) == (5, 3, 2)
    assert (b.on_hand, b.reserved, b.seq) == (2, 2, 2)
    (res,) = await rows(db, "SELECT * FROM reservations WHERE reservation_id = :r", r=rid)
    assert res.status == "reserved" and res.order_id == order
    assert res.lines == [{"material_code": "A", "qty": 3}, {"material_code": "B", "qty": 2}]
    ledger = await rows(
        db,
        "SELECT material_code, kind, delta_on_hand, delta_reserved FROM movements WHERE reference = :r "
        "ORDER BY material_code",
        r=rid,
    )
    assert [tuple(x) for x in ledger] == [("A", "reservation", 0, 3), ("B", "reservation", 0, 2)]
    (ev,) = await outbox(db, "inventory.reserved", key=order)
    assert ev["topic"] == "omni.inventory"
    assert ev["data"]["reservation_id"] == rid and len(ev["data"]["lines"]) == 2
    changed = await outbox(db, "inventory.stock-changed", key=f"{node}:A")
    assert [(c["data"]["seq"], c["data"]["movement"], c["data"]["available"]) for c in changed] == [
        (1, "receipt", 5),
        (2, "reservation", 2),
    ]
    assert changed[0]["topic"] == "omni.inventory.stock-changed"


async def test_one_short_line_reserves_nothing_and_the_refusal_lists_every_line(db):
    node, order, rid = uid("WH"), uid("O"), uid("R")
    await receive(db, node, {"A": 5, "B": 1})

    await handle(db, requested(rid, order, node, {"A": 3, "B": 2, "C": 1}))

    for m, on_hand in (("A", 5), ("B", 1)):
        row = await stock_of(db, node, m)
        assert (row.on_hand, row.reserved, row.seq) == (on_hand, 0, 1), f"{m} must be untouched"
    assert await rows(db, "SELECT * FROM movements WHERE reference = :r", r=rid) == []
    assert await outbox(db, "inventory.reserved") == []
    assert len(await outbox(db, "inventory.stock-changed")) == 2, "only the receipt's two rows changed"
    (ev,) = await outbox(db, "inventory.reservation-refused", key=order)
    assert ev["data"]["shortfall"] == [
        {"material_code": "A", "requested": 3, "available": 5},
        {"material_code": "B", "requested": 2, "available": 1},
        {"material_code": "C", "requested": 1, "available": 0},
    ]
    assert ev["data"]["reason"] == (
        f"not enough stock at node {node}: B requested 2, available 1; C requested 1, available 0"
    )
    (res,) = await rows(db, "SELECT * FROM reservations WHERE reservation_id = :r", r=rid)
    assert res.status == "refused" and res.reason == ev["data"]["reason"] and len(res.shortfall) == 3


async def test_a_refusal_in_a_batch_does_not_undo_the_reservations_around_it(db):
    node = uid("WH")
    await receive(db, node, {"A": 3, "B": 1})
    r1, r2, r3 = uid("R"), uid("R"), uid("R")

    await handle(
        db,
        requested(r1, uid("O"), node, {"A": 1}),
        requested(r2, uid("O"), node, {"A": 1, "B": 2}),  # B short: its A must go back
        requested(r3, uid("O"), node, {"A": 2, "B": 1}),
    )

    statuses = dict(await rows(db, "SELECT reservation_id, status FROM reservations"))
    assert statuses == {r1: "reserved", r2: "refused", r3: "reserved"}
    a, b = await stock_of(db, node, "A"), await stock_of(db, node, "B")
    assert (a.reserved, b.reserved) == (3, 1)
    assert (a.seq, b.seq) == (3, 2), "the rolled-back line left no trace in seq"
    changed = await outbox(db, "inventory.stock-changed", key=f"{node}:A")
    assert [c["data"]["seq"] for c in changed] == [1, 3], "coalesced: one event per row per transaction"
    assert changed[-1]["data"]["available"] == 0


async def test_the_same_reservation_id_changes_nothing_and_reanswers(db):
    node, order, rid = uid("WH"), uid("O"), uid("R")
    await receive(db, node, {"A": 5})
    await handle(db, requested(rid, order, node, {"A": 2}))
    await handle(db, requested(rid, order, node, {"A": 2}, attempt=2))  # a new event id, same request

    row = await stock_of(db, node, "A")
    assert (row.reserved, row.seq) == (2, 2)
    assert len(await rows(db, "SELECT * FROM movements WHERE reference = :r", r=rid)) == 1
    answers = await outbox(db, "inventory.reserved", key=order)
    assert len(answers) == 2 and answers[0]["data"] == answers[1]["data"]

    refused_id = uid("R")
    await handle(db, requested(refused_id, order, node, {"A": 9}))
    await receive(db, node, {"A": 10})  # enough now, but the recorded outcome stands
    await handle(db, requested(refused_id, order, node, {"A": 9}))
    assert (await stock_of(db, node, "A")).reserved == 2
    refusals = await outbox(db, "inventory.reservation-refused", key=order)
    assert len(refusals) == 2 and refusals[0]["data"] == refusals[1]["data"]


async def test_shipment_and_pickup_consume_their_reservation(db):
    node, order = uid("WH"), uid("O")
    r_ship, r_pick = uid("R"), uid("R")
    await receive(db, node, {"A": 5, "B": 4})
    await handle(
        db, requested(r_ship, order, node, {"A": 2, "B": 1}), requested(r_pick, order, node, {"B": 3})
    )

    await handle(
        db,
        shipped(r_ship, order, node, {"A": 2, "B": 1}),
        picked_up(r_pick, order, node, {"B": 3}, task_id="T2"),
    )

    a, b = await stock_of(db, node, "A"), await stock_of(db, node, "B")
    assert (a.on_hand, a.reserved) == (3, 0)
    assert (b.on_hand, b.reserved) == (0, 0)
    statuses = dict(await rows(db, "SELECT reservation_id, status FROM reservations"))
    assert statuses == {r_ship: "consumed", r_pick: "consumed"}
    ledger = await rows(
        db,
        "SELECT reference, material_code, delta_on_hand, delta_reserved FROM movements "
        "WHERE kind = 'shipment' ORDER BY reference, material_code",
    )
    assert sorted(tuple(x) for x in ledger) == sorted(
        [(r_ship, "A", -2, -2), (r_ship, "B", -1, -1), (r_pick, "B", -3, -3)]
    )
    consumed = await outbox(db, "inventory.reservation-consumed", key=order)
    assert {c["data"]["reservation_id"] for c in consumed} == {r_ship, r_pick}
    last_b = (await outbox(db, "inventory.stock-changed", key=f"{node}:B"))[-1]["data"]
    assert (last_b["movement"], last_b["on_hand"], last_b["reserved"]) == ("shipment", 0, 0)
    assert last_b["seq"] == b.seq

    # The same shipment again (a new event id): already consumed, nothing changes.
    await handle(db, shipped(r_ship, order, node, {"A": 2, "B": 1}))
    assert (await stock_of(db, node, "A")).on_hand == 3


async def test_shipment_against_an_unknown_or_released_reservation_is_permanent(db):
    node, order, rid = uid("WH"), uid("O"), uid("R")
    await receive(db, node, {"A": 5})
    with pytest.raises(PermanentError, match="which inventory does not know"):
        await consumers.on_batch(uow(db), [shipped(uid("R"), order, node, {"A": 1})])

    await handle(db, requested(rid, order, node, {"A": 1}))
    await handle(db, cancelled(order))
    with pytest.raises(PermanentError, match="which is released, not reserved"):
        await consumers.on_batch(uow(db), [shipped(rid, order, node, {"A": 1})])
    row = await stock_of(db, node, "A")
    assert (row.on_hand, row.reserved) == (5, 0)

    other = uid("R")
    await handle(db, requested(other, uid("O"), node, {"A": 1}))
    with pytest.raises(PermanentError, match=f"holds stock at node {node}"):
        await consumers.on_batch(uow(db), [shipped(other, order, uid("WH"), {"A": 1})])
    assert (await stock_of(db, node, "A")).reserved == 1, "the failed batch rolled back"


async def test_cancellation_releases_every_held_reservation_of_the_order(db):
    n1, n2, order, other_order = uid("WH"), uid("WH"), uid("O"), uid("O")
    await receive(db, n1, {"A": 5})
    await receive(db, n2, {"A": 5})
    r1, r2, r_shipped, r_other = uid("R"), uid("R"), uid("R"), uid("R")
    await handle(
        db,
        requested(r1, order, n1, {"A": 2}),
        requested(r2, order, n2, {"A": 1}),
        requested(r_shipped, order, n1, {"A": 1}),
        requested(r_other, other_order, n1, {"A": 1}),
    )
    await handle(db, shipped(r_shipped, order, n1, {"A": 1}))

    await handle(db, cancelled(order))

    statuses = dict(await rows(db, "SELECT reservation_id, status FROM reservations"))
    assert statuses == {r1: "released", r2: "released", r_shipped: "consumed", r_other: "reserved"}
    s1, s2 = await stock_of(db, n1, "A"), await stock_of(db, n2, "A")
    assert (s1.on_hand, s1.reserved) == (4, 1)
    assert (s2.on_hand, s2.reserved) == (5, 0)
    released = await outbox(db, "inventory.reservation-released", key=order)
    assert {e["data"]["reservation_id"] for e in released} == {r1, r2}
    ledger = await rows(db, "SELECT reference, delta_reserved FROM movements WHERE kind = 'release'")
    assert sorted(tuple(x) for x in ledger) == sorted([(r1, -2), (r2, -1)])

    await handle(db, cancelled(order))  # again: nothing left to release
    assert len(await outbox(db, "inventory.reservation-released", key=order)) == 2


async def test_a_request_that_arrives_after_the_cancellation_reserves_nothing(db):
    # fulfillment asked before the order was cancelled, but the cancellation was handled first
    node, order, rid = uid("WH"), uid("O"), uid("R")
    await receive(db, node, {"A": 5})
    await handle(db, cancelled(order))

    await handle(db, requested(rid, order, node, {"A": 2}))

    a = await stock_of(db, node, "A")
    assert (a.on_hand, a.reserved) == (5, 0), "no stock held for an order that no longer exists"
    (res,) = await rows(db, "SELECT status, reason FROM reservations WHERE reservation_id = :r", r=rid)
    assert res.status == "refused" and "cancelled" in res.reason
    (ev,) = await outbox(db, "inventory.reservation-refused", key=order)
    assert ev["data"]["reservation_id"] == rid and "cancelled" in ev["data"]["reason"]


async def test_unfulfillable_order_releases_its_partial_reservations(db):
    node, order, rid = uid("WH"), uid("O"), uid("R")
    await receive(db, node, {"A": 5})
    await handle(db, requested(rid, order, node, {"A": 4}))
    await handle(db, unfulfillable(order))
    assert (await stock_of(db, node, "A")).reserved == 0
    (res,) = await rows(db, "SELECT status FROM reservations WHERE reservation_id = :r", r=rid)
    assert res.status == "released"


async def test_seq_grows_by_one_with_every_change_of_a_row(db):
    node, order = uid("WH"), uid("O")
    await receive(db, node, {"A": 10})
    for _ in range(3):
        await handle(db, requested(uid("R"), order, node, {"A": 1}))
    await handle(db, cancelled(order))  # three releases of the same row in one transaction

    ledger = await rows(db, "SELECT seq FROM movements WHERE node_code = :n ORDER BY id", n=node)
    seqs = [r.seq for r in ledger]
    assert seqs == [1, 2, 3, 4, 5, 6, 7]
    events = await outbox(db, "inventory.stock-changed", key=f"{node}:A")
    assert [e["data"]["seq"] for e in events] == [1, 2, 3, 4, 7]
    assert (events[-1]["data"]["reserved"], events[-1]["data"]["movement"]) == (0, "release")


async def test_the_database_refuses_an_oversell_even_if_the_code_did_not(db):
    node = uid("WH")
    await receive(db, node, {"A": 1})
    with pytest.raises(IntegrityError, match="stock_no_oversell"):
        await rows(db, "UPDATE stock SET reserved = 2 WHERE node_code = :n", n=node)


async def test_two_hundred_concurrent_requests_for_fifty_units_reserve_exactly_fifty(db):
    node, material = uid("WH"), "HOT-1"
    await receive(db, node, {material: 50})
    requests = [requested(uid("R"), uid("O"), node, {material: 1}) for _ in range(200)]
    gate = asyncio.Semaphore(20)
    outcomes: list[str] = []

    async def one(env):
        async with gate:
            outcomes.append((await service.reserve(uow(db), env)).value)

    await asyncio.gather(*(one(env) for env in requests))

    assert outcomes.count("reserved") == 50 and outcomes.count("refused") == 150
    row = await stock_of(db, node, material)
    assert (row.on_hand, row.reserved, row.seq) == (50, 50, 51)
    statuses = await rows(db, "SELECT status, count(*) FROM reservations GROUP BY status ORDER BY status")
    assert [tuple(x) for x in statuses] == [("refused", 150), ("reserved", 50)]
    assert len(await outbox(db, "inventory.reserved")) == 50
    assert len(await outbox(db, "inventory.reservation-refused")) == 150
    # Every state the row went through, from the ledger: never below zero available, one unit at a time.
    ledger = await rows(
        db,
        "SELECT seq, on_hand_after - reserved_after - frozen_after AS available FROM movements "
        "WHERE kind = 'reservation' ORDER BY seq",
    )
    assert [(x.seq, x.available) for x in ledger] == [(s, 50 - (s - 1)) for s in range(2, 52)]
    events = await outbox(db, "inventory.stock-changed", key=f"{node}:{material}")
    assert sorted(e["data"]["seq"] for e in events) == list(range(1, 52))
    assert all(e["data"]["available"] >= 0 for e in events)


async def test_a_hot_sku_batch_reserves_the_sum_once_in_arrival_order_and_never_oversells(db):
    node = uid("WH")
    await receive(db, node, {"A": 200})
    ids = [uid("R") for _ in range(300)]
    batch = [requested(rid, uid("O"), node, {"A": 1}) for rid in ids]
    await handle(db, *batch, requested(ids[0], uid("O"), node, {"A": 1}))  # a repeat inside the batch

    statuses = dict(await rows(db, "SELECT reservation_id, status FROM reservations"))
    assert [statuses[r] for r in ids] == ["reserved"] * 200 + ["refused"] * 100
    a = await stock_of(db, node, "A")
    assert (a.on_hand, a.reserved, a.seq) == (200, 200, 201)
    ledger = await rows(
        db, "SELECT seq, reserved_after FROM movements WHERE kind = 'reservation' ORDER BY seq"
    )
    assert [tuple(r) for r in ledger] == [(i + 2, i + 1) for i in range(200)]
    answers = await outbox(db, "inventory.reserved")
    assert [x["data"]["reservation_id"] for x in answers] == [*ids[:200], ids[0]]
