"""Partial intercepts (service/intercepts.py) through the `inventory-fulfillment` batch on the in-memory
repository: exactly the intercepted units leave `reserved` (ledger `release`, stock-changed), the
reservation's lines go down so its shipment consumes only the rest, a reservation emptied is released whole,
a repeat changes nothing, a reservation already released gives nothing back."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from fakes_intercepts import FakeIntercepts, cancelled, intercepted, requested, shipped

from omni_chassis.consumer import PermanentError
from omni_chassis.uow import FakeUnitOfWork
from omni_contracts import utcnow
from omni_inventory import consumers, service
from omni_inventory.domain.model import Line, ReservationStatus

NODE = "WH1"
RID = "O-1:1:WH1"


@pytest.fixture
async def repo() -> FakeIntercepts:
    """A and B at the node, and O-1's reservation of 1 A and 2 B."""
    r = FakeIntercepts()
    await r.receive(NODE, [Line("A", 5), Line("B", 5)], utcnow())
    await service.handle_batch(FakeUnitOfWork(r), [requested(RID, NODE, {"A": 1, "B": 2})])
    return r


async def run(repo: FakeIntercepts, *envs) -> FakeUnitOfWork:
    uow = FakeUnitOfWork(repo)
    await service.handle_batch(uow, list(envs))
    return uow


def level(repo: FakeIntercepts, material: str) -> tuple[int, int, int]:
    row = repo.stock[(NODE, material)]
    return row.on_hand, row.reserved, row.available


async def test_exactly_the_intercepted_units_are_released_and_the_shipment_takes_the_rest(repo):
    uow = await run(repo, intercepted("C1", RID, NODE, [("O-1-1", "B", 1)]))
    assert level(repo, "B") == (5, 1, 4) and level(repo, "A") == (5, 1, 4)
    res = repo.reservations[RID]
    assert res.status is ReservationStatus.RESERVED and res.lines == [Line("A", 1), Line("B", 1)]
    (release,) = [m for m in repo.movements if m["kind"] == "release"]
    assert (release["material_code"], release["delta_reserved"], release["reference"]) == ("B", -1, RID)
    (ev,) = uow.of_type("inventory.stock-changed")
    assert (ev.data.material_code, ev.data.movement, ev.data.reserved, ev.data.available) == (
        "B",
        "release",
        1,
        4,
    )
    assert uow.of_type("inventory.reservation-released") == []  # still a reservation, of less
    assert repo.intercept_lines[("C1", RID, "O-1-1")]["released"] == 1

    await run(repo, shipped(RID, NODE, {"A": 1, "B": 1}))
    assert level(repo, "A") == (4, 0, 4) and level(repo, "B") == (4, 0, 4)


async def test_the_same_case_line_again_changes_nothing(repo):
    await run(repo, intercepted("C1", RID, NODE, [("O-1-1", "B", 1)]))
    uow = await run(repo, intercepted("C1", RID, NODE, [("O-1-1", "B", 1)]))  # a new event, the same line
    assert level(repo, "B") == (5, 1, 4)
    assert uow.of_type("inventory.stock-changed") == []
    assert len([m for m in repo.movements if m["kind"] == "release"]) == 1
    # another case of the same line is another intercept
    await run(repo, intercepted("C2", RID, NODE, [("O-1-1", "B", 1)]))
    assert level(repo, "B") == (5, 0, 5)


async def test_a_reservation_whose_lines_all_reach_zero_is_released_whole(repo):
    await run(repo, intercepted("C1", RID, NODE, [("O-1-0", "A", 1)]))
    uow = await run(repo, intercepted("C2", RID, NODE, [("O-1-1", "B", 2)]))
    res = repo.reservations[RID]
    assert res.status is ReservationStatus.RELEASED and res.lines == [Line("B", 2)]
    (ev,) = uow.of_type("inventory.reservation-released")
    assert [(x.material_code, x.qty) for x in ev.data.lines] == [("B", 2)]
    assert level(repo, "A") == (5, 0, 5) and level(repo, "B") == (5, 0, 5)


async def test_a_reservation_already_released_by_the_cancellation_gives_nothing_back(repo):
    await run(repo, cancelled())
    assert level(repo, "B") == (5, 0, 5)
    uow = await run(repo, intercepted("C1", RID, NODE, [("O-1-1", "B", 1)]))
    assert level(repo, "B") == (5, 0, 5) and uow.of_type("inventory.stock-changed") == []
    assert repo.intercept_lines[("C1", RID, "O-1-1")]["released"] == 0


async def test_more_units_than_held_release_what_is_held_and_only_not_intercepted_moves_nothing(repo):
    await run(repo, intercepted("C1", RID, NODE, [("O-1-1", "B", 3)], gone=[("O-1-0", "A", 1)]))
    assert level(repo, "B") == (5, 0, 5) and level(repo, "A") == (5, 1, 4)
    assert repo.reservations[RID].lines == [Line("A", 1)]
    assert repo.intercept_lines[("C1", RID, "O-1-1")]["released"] == 2


async def test_an_unknown_reservation_or_another_node_is_dead_lettered(repo):
    with pytest.raises(PermanentError, match="does not exist"):
        await consumers.on_batch(FakeUnitOfWork(repo), [intercepted("C1", "nope", NODE, [("L", "A", 1)])])
    with pytest.raises(PermanentError, match="another node"):
        await consumers.on_batch(FakeUnitOfWork(repo), [intercepted("C1", RID, "WH9", [("L", "A", 1)])])
    assert level(repo, "A") == (5, 1, 4) and repo.intercept_lines == {}


def test_the_fulfillment_group_takes_the_event():
    (spec,) = [s for s in consumers.specs() if s.group == consumers.FULFILLMENT_GROUP]
    assert "fulfillment.lines-intercepted" in spec.event_types
