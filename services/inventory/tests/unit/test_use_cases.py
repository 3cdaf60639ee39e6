"""The inventory's use cases on FakeUnitOfWork(FakeRepository()): receipts, adjustments, reservations."""

from __future__ import annotations

import pytest

from omni_contracts import make_envelope, utcnow
from omni_contracts.events.fulfillment import (
    OrderUnfulfillableV1,
    PickedUpV1,
    ReservationRequestedV1,
    ShippedV1,
)
from omni_contracts.events.order import OrderCancelledV1
from omni_inventory import service
from omni_inventory.domain.model import (
    AdjustmentRefused,
    IdempotencyConflict,
    InvalidRequest,
    ReservationStateError,
    ReservationStatus,
)

NODE = "WH1"


def requested(rid: str, order: str, lines: dict[str, int], node: str = NODE):
    data = ReservationRequestedV1(
        reservation_id=rid,
        order_id=order,
        node_code=node,
        lines=[{"material_code": m, "qty": q} for m, q in lines.items()],
        attempt=1,
    )
    return make_envelope(data, producer="fulfillment", key=order)


def shipped(rid: str, order: str, lines: dict[str, int], node: str = NODE):
    data = ShippedV1(
        task_id="T1",
        order_id=order,
        node_code=node,
        reservation_id=rid,
        carrier="SF",
        tracking_no="SF1",
        lines=[{"material_code": m, "qty": q} for m, q in lines.items()],
        shipped_at=utcnow(),
    )
    return make_envelope(data, producer="fulfillment", key=order)


def picked_up(rid: str, order: str, lines: dict[str, int]):
    data = PickedUpV1(
        task_id="T2",
        order_id=order,
        node_code=NODE,
        reservation_id=rid,
        lines=[{"material_code": m, "qty": q} for m, q in lines.items()],
        picked_up_at=utcnow(),
    )
    return make_envelope(data, producer="fulfillment", key=order)


def cancelled(order: str):
    return make_envelope(OrderCancelledV1(order_id=order, reason="buyer asked"), producer="order", key=order)


def unfulfillable(order: str):
    data = OrderUnfulfillableV1(order_id=order, reason="no node", attempts=3)
    return make_envelope(data, producer="fulfillment", key=order)


async def stock_up(uow, lines: dict[str, int], rid: str = "RC1", node: str = NODE):
    return await service.receive(uow, service.ReceiveCommand(rid, node, list(lines.items())))


def level(repo, material: str, node: str = NODE) -> tuple[int, int, int]:
    row = repo.stock[(node, material)]
    return row.on_hand, row.reserved, row.seq


# -- receipts ---------------------------------------------------------------------------------------------
async def test_a_receipt_adds_stock_with_its_ledger_and_stock_changed_events(uow, repo):
    result = await stock_up(uow, {"B": 2, "A": 5})

    assert result.created and [(x.material_code, x.on_hand, x.seq) for x in result.lines] == [
        ("A", 5, 1),
        ("B", 2, 1),
    ]
    assert [(m["material_code"], m["kind"], m["delta_on_hand"]) for m in repo.movements] == [
        ("A", "receipt", 5),
        ("B", "receipt", 2),
    ]
    changed = [e.data for e in uow.of_type("inventory.stock-changed")]
    assert [(c.material_code, c.available, c.movement, c.seq) for c in changed] == [
        ("A", 5, "receipt", 1),
        ("B", 2, "receipt", 1),
    ]
    assert uow.of_type("inventory.stock-changed")[0].key == f"{NODE}:A"


async def test_a_repeated_receipt_changes_nothing_and_other_content_is_a_conflict(uow, repo):
    await stock_up(uow, {"A": 5})
    again = await stock_up(uow, {"A": 5})

    assert not again.created and [(x.material_code, x.qty, x.on_hand) for x in again.lines] == [("A", 5, 5)]
    assert level(repo, "A") == (5, 0, 1) and len(uow.committed_events) == 1
    with pytest.raises(IdempotencyConflict, match="already recorded with other content"):
        await stock_up(uow, {"A": 6})
    assert uow.rollbacks == 1 and level(repo, "A") == (5, 0, 1)


async def test_a_receipt_listing_a_material_twice_is_refused(uow, repo):
    with pytest.raises(InvalidRequest, match="more than one line"):
        await service.receive(uow, service.ReceiveCommand("RC", NODE, [("A", 1), ("A", 2)]))
    assert repo.stock == {} and repo.receipts == {}


# -- adjustments ------------------------------------------------------------------------------------------
async def test_adjustments_apply_once_and_refuse_with_the_numbers(uow, repo):
    await stock_up(uow, {"A": 5})
    await service.reserve(uow, requested("R1", "O1", {"A": 2}))
    cmd = service.AdjustCommand("ADJ1", NODE, "A", -3, "count")

    done = await service.adjust(uow, cmd)
    assert done.created and (done.after.on_hand, done.after.available) == (2, 0)
    repeat = await service.adjust(uow, cmd)
    assert not repeat.created and repeat.after == done.after and repo.stock[(NODE, "A")].on_hand == 2

    with pytest.raises(AdjustmentRefused) as refused:
        await service.adjust(uow, service.AdjustCommand("ADJ2", NODE, "A", -1, "damage"))
    assert (refused.value.level.on_hand, refused.value.level.reserved, refused.value.delta) == (2, 2, -1)
    assert "ADJ2" not in repo.adjustments, "the refused adjustment left no record"
    with pytest.raises(IdempotencyConflict):
        await service.adjust(uow, service.AdjustCommand("ADJ1", NODE, "A", -2, "count"))
    with pytest.raises(InvalidRequest, match="delta must not be 0"):
        await service.adjust(uow, service.AdjustCommand("ADJ3", NODE, "A", 0, "count"))
    with pytest.raises(InvalidRequest, match="needs a reason"):
        await service.adjust(uow, service.AdjustCommand("ADJ4", NODE, "A", 1, "  "))
    up = await service.adjust(uow, service.AdjustCommand("ADJ5", NODE, "NEW", 4, "found"))
    assert up.after.on_hand == 4 and [m["kind"] for m in repo.movements][-1] == "adjustment"


# -- reservations -----------------------------------------------------------------------------------------
async def test_every_line_is_reserved_together(uow, repo):
    await stock_up(uow, {"A": 5, "B": 2})

    status = await service.reserve(uow, requested("R1", "O1", {"B": 2, "A": 3}))

    assert status is ReservationStatus.RESERVED
    assert level(repo, "A") == (5, 3, 2) and level(repo, "B") == (2, 2, 2)
    (ev,) = uow.of_type("inventory.reserved")
    assert ev.key == "O1" and [(x.material_code, x.qty) for x in ev.data.lines] == [("A", 3), ("B", 2)]
    reservation_moves = [m for m in repo.movements if m["kind"] == "reservation"]
    assert [(m["material_code"], m["delta_reserved"]) for m in reservation_moves] == [("A", 3), ("B", 2)]


async def test_one_short_line_reserves_nothing_and_the_refusal_lists_every_line(uow, repo):
    await stock_up(uow, {"A": 5, "B": 1})

    status = await service.reserve(uow, requested("R1", "O1", {"A": 3, "B": 2, "C": 1}))

    assert status is ReservationStatus.REFUSED
    assert level(repo, "A") == (5, 0, 1) and level(repo, "B") == (1, 0, 1), "A's line went back"
    assert uow.of_type("inventory.reserved") == []
    (ev,) = uow.of_type("inventory.reservation-refused")
    assert [(s.material_code, s.requested, s.available) for s in ev.data.shortfall] == [
        ("A", 3, 5),
        ("B", 2, 1),
        ("C", 1, 0),
    ]
    assert (
        ev.data.reason
        == f"not enough stock at node {NODE}: B requested 2, available 1; C requested 1, available 0"
    )
    assert repo.reservations["R1"].status is ReservationStatus.REFUSED


async def test_the_same_reservation_id_changes_nothing_and_reanswers_its_current_truth(uow, repo):
    await stock_up(uow, {"A": 5})
    await service.reserve(uow, requested("R1", "O1", {"A": 2}))
    again = await service.reserve(uow, requested("R1", "O1", {"A": 2}))  # a new event id, same request

    assert again is ReservationStatus.RESERVED and level(repo, "A") == (5, 2, 2)
    first, second = uow.of_type("inventory.reserved")
    assert first.data == second.data and first.event_id != second.event_id

    await service.reserve(uow, requested("R2", "O1", {"A": 9}))
    await stock_up(uow, {"A": 10}, rid="RC2")  # enough now, but the recorded refusal stands
    assert await service.reserve(uow, requested("R2", "O1", {"A": 9})) is ReservationStatus.REFUSED
    assert repo.stock[(NODE, "A")].reserved == 2
    r1, r2 = uow.of_type("inventory.reservation-refused")
    assert r1.data == r2.data

    await service.release_order(uow, "O1")
    assert await service.reserve(uow, requested("R1", "O1", {"A": 2})) is ReservationStatus.RELEASED
    assert len(uow.of_type("inventory.reservation-released")) == 2, "released, then re-answered as released"
    assert repo.stock[(NODE, "A")].reserved == 0


async def test_a_request_after_its_order_was_cancelled_reserves_nothing(uow, repo):
    await stock_up(uow, {"A": 5})
    await service.handle_batch(uow, [cancelled("O1")])

    status = await service.reserve(uow, requested("R1", "O1", {"A": 2}))

    assert status is ReservationStatus.REFUSED and level(repo, "A") == (5, 0, 1)
    (ev,) = uow.of_type("inventory.reservation-refused")
    assert ev.data.reason == "order O1 was cancelled before this request arrived: nothing reserved"
    assert [(s.requested, s.available) for s in ev.data.shortfall] == [(2, 5)]


async def test_shipment_and_pickup_consume_their_reservations_once(uow, repo):
    await stock_up(uow, {"A": 5, "B": 4})
    await service.handle_batch(
        uow, [requested("R1", "O1", {"A": 2, "B": 1}), requested("R2", "O1", {"B": 3})]
    )

    await service.handle_batch(uow, [shipped("R1", "O1", {"A": 2, "B": 1}), picked_up("R2", "O1", {"B": 3})])

    assert level(repo, "A")[:2] == (3, 0) and level(repo, "B")[:2] == (0, 0)
    assert {r.status for r in repo.reservations.values()} == {ReservationStatus.CONSUMED}
    shipments = sorted(
        (m["reference"], m["material_code"], m["delta_on_hand"])
        for m in repo.movements
        if m["kind"] == "shipment"
    )
    assert shipments == [("R1", "A", -2), ("R1", "B", -1), ("R2", "B", -3)]
    assert {e.data.reservation_id for e in uow.of_type("inventory.reservation-consumed")} == {"R1", "R2"}

    events_before = len(uow.committed_events)
    await service.consume(uow, shipped("R1", "O1", {"A": 2, "B": 1}))  # a repeat: already consumed
    assert level(repo, "A")[:2] == (3, 0) and len(uow.committed_events) == events_before


async def test_consuming_an_unknown_released_or_misplaced_reservation_is_refused(uow, repo):
    await stock_up(uow, {"A": 5})
    with pytest.raises(ReservationStateError, match="which inventory does not know"):
        await service.consume(uow, shipped("GHOST", "O1", {"A": 1}))

    await service.reserve(uow, requested("R1", "O1", {"A": 1}))
    await service.release_order(uow, "O1")
    with pytest.raises(ReservationStateError, match="which is released, not reserved"):
        await service.consume(uow, shipped("R1", "O1", {"A": 1}))

    await service.reserve(uow, requested("R2", "O2", {"A": 1}))
    with pytest.raises(ReservationStateError, match=f"holds stock at node {NODE}"):
        await service.consume(uow, shipped("R2", "O2", {"A": 1}, node="WH9"))
    assert repo.reservations["R2"].status is ReservationStatus.RESERVED, "rolled back"
    assert level(repo, "A")[:2] == (5, 1)


async def test_cancellation_and_unfulfillable_release_only_what_is_still_held(uow, repo):
    await stock_up(uow, {"A": 5})
    await service.handle_batch(
        uow,
        [
            requested("R1", "O1", {"A": 2}),
            requested("R2", "O1", {"A": 1}),
            requested("R3", "O2", {"A": 1}),
            requested("R4", "O3", {"A": 1}),
        ],
    )
    await service.consume(uow, shipped("R2", "O1", {"A": 1}))

    await service.handle_batch(uow, [cancelled("O1"), unfulfillable("O3")])

    statuses = {rid: r.status.value for rid, r in repo.reservations.items()}
    assert statuses == {"R1": "released", "R2": "consumed", "R3": "reserved", "R4": "released"}
    assert level(repo, "A")[:2] == (4, 1)
    assert {e.data.reservation_id for e in uow.of_type("inventory.reservation-released")} == {"R1", "R4"}
    assert repo.locked[-1] == [(NODE, "A")], "the rows the releases touch were locked up front"

    await service.handle_batch(uow, [cancelled("O1")])  # again: nothing left to release
    assert len(uow.of_type("inventory.reservation-released")) == 2


async def test_a_batch_writes_one_ledger_and_coalesces_stock_changed_per_row(uow, repo):
    await stock_up(uow, {"A": 10})
    events_before = len(uow.committed_events)

    await service.handle_batch(
        uow, [requested(f"R{i}", "O1", {"A": 1}) for i in range(3)] + [cancelled("O1")]
    )

    assert [m["seq"] for m in repo.movements] == [1, 2, 3, 4, 5, 6, 7]
    batch = uow.committed_events[events_before:]
    changed = [e.data for e in batch if e.event_type == "inventory.stock-changed"]
    assert [(c.seq, c.reserved, c.movement) for c in changed] == [(7, 0, "release")], "one per row"
    assert batch[-1].event_type == "inventory.stock-changed", "after the answers, as before"


async def test_a_failing_batch_leaves_nothing_behind(uow, repo):
    await stock_up(uow, {"A": 5})
    events_before, movements_before = len(uow.committed_events), len(repo.movements)

    with pytest.raises(ReservationStateError):
        await service.handle_batch(uow, [requested("R1", "O1", {"A": 2}), shipped("GHOST", "O1", {"A": 1})])

    assert repo.reservations == {} and level(repo, "A") == (5, 0, 1)
    assert len(repo.movements) == movements_before and len(uow.committed_events) == events_before


async def test_an_event_the_inventory_does_not_handle_is_invalid(uow):
    from omni_contracts.events.order import OrderCancelledV1 as _C

    env = make_envelope(_C(order_id="O1", reason="x"), producer="order", key="O1")
    env = env.model_copy(update={"event_type": "order.something-else"})
    with pytest.raises(InvalidRequest, match=r"does not handle order\.something-else"):
        await service.handle_batch(uow, [env])


async def test_queries_read_through_the_unit_of_work(uow, repo):
    await stock_up(uow, {f"M{i}": i + 1 for i in range(5)})
    await service.reserve(uow, requested("R1", "O1", {"M1": 1}))

    rows, total = await service.list_stock(uow, node=NODE, material=None, limit=2, offset=2)
    assert total == 5 and [r.material_code for r in rows] == ["M2", "M3"]
    assert (await service.get_stock(uow, NODE, "M1")).reserved == 1
    assert await service.get_stock(uow, NODE, "NOPE") is None
    moves, n = await service.list_movements(
        uow, node=NODE, material="M1", reference=None, kind=None, limit=10, offset=0
    )
    assert n == 2 and [m["kind"] for m in moves] == ["reservation", "receipt"], "newest first"
    assert (await service.get_reservation(uow, "R1")).status is ReservationStatus.RESERVED
    found, n = await service.list_reservations(
        uow, order_id="O1", node=None, status=ReservationStatus.RESERVED, limit=10, offset=0
    )
    assert n == 1 and found[0].reservation_id == "R1"
