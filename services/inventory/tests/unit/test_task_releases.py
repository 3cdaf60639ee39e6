"""A store gives a task's units back (service/task_releases.py) through the `inventory-fulfillment` batch on
the in-memory repository: a partial rejection releases exactly its units (the shipment then takes the
rest), a whole one releases the reservation, out of stock sets the node's available to 0 (on hand down to
what is held for others), a reassignment or an uncollected pickup releases everything, a reservation no
longer held gives nothing back, and a reservation at another node is dead-lettered."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from fakes_intercepts import FakeIntercepts, cancelled, requested, shipped

from omni_chassis.consumer import PermanentError
from omni_chassis.uow import FakeUnitOfWork
from omni_contracts import make_envelope, utcnow
from omni_contracts.events.fulfillment_tasks import (
    PickupExpiredV1,
    ReleasedLine,
    TaskReassignedV1,
    TaskRejectedV1,
)
from omni_inventory import consumers, service
from omni_inventory.domain.model import Line, ReservationStatus

NODE = "ST1"
RID = "O-1:1:ST1"
OTHER = "O-2:1:ST1"


def rejected(lines: dict[str, int], *, whole: bool, stock_out: tuple[str, ...] = (), node: str = NODE):
    data = TaskRejectedV1(
        task_id="T1", order_id="O-1", node_code=node, reservation_id=RID, reason_code="out_of_stock",
        reason="out of stock", lines=[ReleasedLine(material_code=m, qty=q) for m, q in lines.items()],
        whole=whole, stock_out=list(stock_out), next="next_best_node", rejected_at=utcnow(),
    )  # fmt: skip
    return make_envelope(data, producer="fulfillment", key="O-1")


def released(lines: dict[str, int]) -> list[ReleasedLine]:
    return [ReleasedLine(material_code=m, qty=q) for m, q in lines.items()]


@pytest.fixture
async def repo() -> FakeIntercepts:
    """A and B at the store; O-1 holds 1 A and 2 B, O-2 holds 1 A."""
    r = FakeIntercepts()
    await r.receive(NODE, [Line("A", 5), Line("B", 5)], utcnow())
    uow = FakeUnitOfWork(r)
    await service.handle_batch(uow, [requested(RID, NODE, {"A": 1, "B": 2})])
    await service.handle_batch(uow, [requested(OTHER, NODE, {"A": 1}, order_id="O-2")])
    return r


async def run(repo: FakeIntercepts, *envs) -> FakeUnitOfWork:
    uow = FakeUnitOfWork(repo)
    await service.handle_batch(uow, list(envs))
    return uow


def level(repo: FakeIntercepts, material: str) -> tuple[int, int, int]:
    row = repo.stock[(NODE, material)]
    return row.on_hand, row.reserved, row.available


async def test_a_partial_rejection_releases_its_units_and_the_shipment_takes_the_rest(repo):
    uow = await run(repo, rejected({"B": 1}, whole=False))
    assert level(repo, "B") == (5, 1, 4)
    res = repo.reservations[RID]
    assert res.status is ReservationStatus.RESERVED and res.lines == [Line("A", 1), Line("B", 1)]
    (ev,) = uow.of_type("inventory.stock-changed")
    assert (ev.data.material_code, ev.data.movement, ev.data.reserved) == ("B", "release", 1)
    assert uow.of_type("inventory.reservation-released") == []
    await run(repo, shipped(RID, NODE, {"A": 1, "B": 1}))
    assert level(repo, "A") == (4, 1, 3) and level(repo, "B") == (4, 0, 4)


async def test_out_of_stock_zeroes_what_is_not_held_for_other_orders(repo):
    uow = await run(repo, rejected({"A": 1, "B": 2}, whole=True, stock_out=("A", "B")))
    assert repo.reservations[RID].status is ReservationStatus.RELEASED
    assert [e.data.reservation_id for e in uow.of_type("inventory.reservation-released")] == [RID]
    # A: O-2 still holds 1, so on hand goes to 1 and nothing is available; B: nothing held, on hand 0
    assert level(repo, "A") == (1, 1, 0) and level(repo, "B") == (0, 0, 0)
    outs = [m for m in repo.movements if m["kind"] == "adjustment"]
    assert sorted((m["material_code"], m["delta_on_hand"], m["reference"]) for m in outs) == [
        ("A", -4, "stockout:T1"),
        ("B", -5, "stockout:T1"),
    ]
    last = {e.data.material_code: e.data for e in uow.of_type("inventory.stock-changed")}
    assert (last["A"].available, last["B"].available) == (0, 0)


async def test_a_reassignment_or_an_uncollected_pickup_releases_everything(repo):
    moved = TaskReassignedV1(
        task_id="T1", order_id="O-1", node_code=NODE, reservation_id=RID, lines=released({"A": 1, "B": 2}),
        sla_s=1800, reason="not accepted within 30 min", reassigned_at=utcnow(),
    )  # fmt: skip
    await run(repo, make_envelope(moved, producer="fulfillment", key="O-1"))
    assert repo.reservations[RID].status is ReservationStatus.RELEASED
    assert level(repo, "A") == (5, 1, 4) and level(repo, "B") == (5, 0, 5)
    gone = PickupExpiredV1(
        task_id="T2", order_id="O-2", node_code=NODE, reservation_id=OTHER, lines=released({"A": 1}),
        ready_at=utcnow(), hold_s=172800, reason="not collected within 48 h", expired_at=utcnow(),
    )  # fmt: skip
    await run(repo, make_envelope(gone, producer="fulfillment", key="O-2"))
    assert repo.reservations[OTHER].status is ReservationStatus.RELEASED and level(repo, "A") == (5, 0, 5)


async def test_a_reservation_no_longer_held_gives_nothing_back(repo):
    await run(repo, cancelled("O-1"))
    before = (level(repo, "A"), level(repo, "B"))
    uow = await run(repo, rejected({"B": 1}, whole=False))
    assert (level(repo, "A"), level(repo, "B")) == before
    assert uow.of_type("inventory.stock-changed") == []


async def test_units_given_back_at_another_node_are_dead_lettered(repo):
    with pytest.raises(PermanentError, match="holds stock at node ST1"):
        await consumers.on_batch(FakeUnitOfWork(repo), [rejected({"B": 1}, whole=False, node="WH9")])
    assert level(repo, "B") == (5, 2, 3)
    assert {"fulfillment.task-rejected", "fulfillment.task-reassigned", "fulfillment.pickup-expired"} <= (
        consumers.FULFILLMENT_EVENTS
    )
