"""Quality moves, cycle counts and transfers on the fake unit of work: refusals with numbers, every problem
listed, idempotency, variance, loss, nothing half-applied."""

from __future__ import annotations

import pytest
from fakes_physical import PhysicalFakeRepository

from omni_chassis.uow import FakeUnitOfWork
from omni_inventory import service
from omni_inventory.domain.model import IdempotencyConflict
from omni_inventory.domain.physical import NotFound, Problems, Refused
from omni_inventory.service import counts, quality, transfers
from omni_inventory.service.counts import CountCommand
from omni_inventory.service.quality import QualityMoveCommand
from omni_inventory.service.transfers import TransferCommand

from .test_use_cases import NODE, requested, stock_up

OTHER = "STORE1"


@pytest.fixture
def repo() -> PhysicalFakeRepository:
    return PhysicalFakeRepository()


@pytest.fixture
def uow(repo: PhysicalFakeRepository) -> FakeUnitOfWork[PhysicalFakeRepository]:
    return FakeUnitOfWork(repo)


def stock_events(uow) -> list:
    return [e.data for e in uow.committed_events if e.event_type == "inventory.stock-changed"]


def qmove(mid="Q1", qty=3, src="good", dst="defective", material="A", reason="scratched"):
    return QualityMoveCommand(mid, NODE, material, qty, src, dst, reason)


def kinds(repo, reference: str) -> list[tuple[str, str, int, int]]:
    return [
        (m["node_code"], m["kind"], m["delta_on_hand"], m["on_hand_after"])
        for m in repo.movements
        if m["reference"] == reference
    ]


# -- quality ----------------------------------------------------------------------------------------------
async def test_a_move_out_of_good_lowers_available_and_says_so(uow, repo):
    await stock_up(uow, {"A": 10})
    done = await quality.move(uow, qmove())
    assert done.created and (done.view.level.on_hand, done.view.level.available, done.view.defective) == (
        7,
        7,
        3,
    )
    assert kinds(repo, "Q1") == [(NODE, "quality", -3, 7)]
    last = stock_events(uow)[-1]
    assert (type(last).__name__, last.movement, last.on_hand, last.available) == (
        "StockChangedV3",
        "quality",
        7,
        7,
    )

    # defective -> quarantined changes no good stock: no ledger row on the stock row, no event
    events = len(stock_events(uow))
    moved = await quality.move(uow, qmove("Q2", 2, "defective", "quarantined"))
    assert (moved.view.defective, moved.view.quarantined, moved.view.level.on_hand) == (1, 2, 7)
    assert kinds(repo, "Q2") == [] and len(stock_events(uow)) == events
    # repaired: back to good, available again
    back = await quality.move(uow, qmove("Q3", 1, "defective", "good", reason="repaired"))
    assert (back.view.defective, back.view.level.available) == (0, 8)
    assert kinds(repo, "Q3") == [(NODE, "quality", 1, 8)] and stock_events(uow)[-1].available == 8


async def test_a_move_takes_only_what_is_available_or_held_and_leaves_nothing_when_refused(uow, repo):
    await stock_up(uow, {"A": 5})
    await service.handle_batch(uow, [requested("R1", "O1", {"A": 4})])
    with pytest.raises(Refused, match=r"only 1 available \(on hand 5, reserved 4") as refused:
        await quality.move(uow, qmove(qty=2))
    assert refused.value.numbers["available"] == 1 and refused.value.numbers["reserved"] == 4
    with pytest.raises(Refused, match="only 0 defective"):
        await quality.move(uow, qmove("Q2", 1, "defective", "good"))
    assert repo.moves == {} and repo.quality == {} and repo.stock[(NODE, "A")].on_hand == 5


async def test_a_repeated_move_changes_nothing_and_other_content_is_a_conflict(uow, repo):
    await stock_up(uow, {"A": 10})
    await quality.move(uow, qmove())
    again = await quality.move(uow, qmove())
    assert not again.created and again.view.defective == 3 and repo.stock[(NODE, "A")].on_hand == 7
    with pytest.raises(IdempotencyConflict, match="use a new move id"):
        await quality.move(uow, qmove(qty=4))


async def test_a_bad_move_lists_every_problem(uow):
    with pytest.raises(Problems) as bad:
        await quality.move(uow, qmove(qty=-1, src="broken", dst="good", reason=" "))
    assert [p for p, _ in bad.value.problems] == ["qty", "from_state", "reason"]
    with pytest.raises(Problems, match="must differ"):
        await quality.move(uow, qmove(src="good", dst="good"))


# -- counts -----------------------------------------------------------------------------------------------
async def test_a_count_sets_on_hand_and_records_the_variance(uow, repo):
    await stock_up(uow, {"A": 10, "B": 4, "C": 2})
    cmd = CountCommand(
        "C1", NODE, [("A", 8, "good"), ("B", 4, "good"), ("D", 3, "good"), ("C", 1, "defective")]
    )
    done = await counts.count(uow, cmd)
    got = [(x.material_code, x.state, x.expected, x.counted, x.variance) for x in done.count.lines]
    assert got == [
        ("A", "good", 10, 8, -2),
        ("B", "good", 4, 4, 0),
        ("C", "defective", 0, 1, 1),
        ("D", "good", 0, 3, 3),
    ]
    assert repo.stock[(NODE, "A")].on_hand == 8 and repo.stock[(NODE, "D")].on_hand == 3
    assert repo.stock[(NODE, "B")].seq == 1, "a zero variance changes nothing"
    assert repo.stock[(NODE, "C")].on_hand == 2 and repo.quality[(NODE, "C", "defective")].qty == 1
    assert kinds(repo, "C1") == [(NODE, "count", -2, 8), (NODE, "count", 3, 3)]
    assert [(e.material_code, e.movement) for e in stock_events(uow)[-2:]] == [("A", "count"), ("D", "count")]

    again = await counts.count(uow, cmd)
    assert (
        not again.created and again.count.lines == done.count.lines and repo.stock[(NODE, "A")].on_hand == 8
    )
    with pytest.raises(IdempotencyConflict, match="new count id"):
        await counts.count(uow, CountCommand("C1", NODE, [("A", 7, "good")]))
    listed, total = await counts.list_counts(uow, node=NODE, limit=10, offset=0)
    assert total == 1 and listed[0].count_id == "C1"


async def test_a_count_below_what_is_held_is_refused_naming_the_reservations_at_risk(uow, repo):
    await stock_up(uow, {"A": 10, "B": 5})
    await service.handle_batch(uow, [requested("R1", "O1", {"A": 6}), requested("R2", "O2", {"A": 2})])
    cmd = CountCommand("C1", NODE, [("A", 5, "good"), ("B", 1, "good")])
    with pytest.raises(Refused, match=r"A counted 5, but reserved 8 \+ frozen 0 are held") as refused:
        await counts.count(uow, cmd)
    (short,) = refused.value.numbers["short"]
    assert (short["missing"], short["reservations_at_risk"]) == (3, ["R1", "R2"])
    assert repo.counts == {} and repo.stock[(NODE, "B")].on_hand == 5, "nothing half-applied"


async def test_a_bad_count_lists_every_problem(uow):
    with pytest.raises(Problems) as bad:
        await counts.count(
            uow, CountCommand("C1", NODE, [("A", -1, "good"), ("A", 2, "good"), ("B", 1, "lost")])
        )
    assert [p for p, _ in bad.value.problems] == ["lines[0].counted", "lines[1]", "lines[2].state"]


# -- transfers --------------------------------------------------------------------------------------------
def tcmd(tid="T1", lines=(("A", 6), ("B", 2)), target=OTHER):
    return TransferCommand(tid, NODE, target, list(lines), "rebalance")


async def test_a_transfer_ships_through_in_transit_and_a_short_receipt_is_a_loss(uow, repo):
    await stock_up(uow, {"A": 10, "B": 2})
    created = await transfers.create(uow, tcmd())
    assert created.created and created.transfer.status == "created"
    shipped = await transfers.ship(uow, "T1")
    assert shipped.transfer.status == "shipped" and shipped.transfer.shipped_at is not None
    assert (repo.stock[(NODE, "A")].on_hand, repo.stock[(NODE, "B")].on_hand) == (4, 0)
    assert (await repo.in_transit_of(OTHER, "A"), await repo.in_transit_of(OTHER, "B")) == (6, 2)
    assert stock_events(uow)[-1].movement == "transfer-out"
    assert not (await transfers.ship(uow, "T1")).created and repo.stock[(NODE, "A")].on_hand == 4

    done = await transfers.receive(uow, "T1", [("A", 5), ("B", 2)])
    assert done.transfer.status == "received"
    assert [(x.material_code, x.qty, x.received, x.lost) for x in done.transfer.lines] == [
        ("A", 6, 5, 1),
        ("B", 2, 2, 0),
    ]
    assert (repo.stock[(OTHER, "A")].on_hand, repo.stock[(OTHER, "B")].on_hand) == (5, 2)
    assert (await repo.in_transit_of(OTHER, "A"), await repo.in_transit_of(OTHER, "B")) == (0, 0)
    assert kinds(repo, "T1") == [
        (NODE, "transfer-out", -6, 4),
        (NODE, "transfer-out", -2, 0),
        (OTHER, "transfer-in", 6, 6),
        (OTHER, "transfer-loss", -1, 5),
        (OTHER, "transfer-in", 2, 2),
    ]
    seqs = [m["seq"] for m in repo.movements if m["node_code"] == OTHER and m["material_code"] == "A"]
    assert seqs == [1, 2] and repo.stock[(OTHER, "A")].seq == 2
    last = {(e.node_code, e.material_code): e for e in stock_events(uow)}
    assert (last[(OTHER, "A")].movement, last[(OTHER, "A")].on_hand, last[(OTHER, "A")].seq) == (
        "transfer-loss",
        5,
        2,
    )
    for key in last:  # the ledger sums to on hand
        assert (
            sum(m["delta_on_hand"] for m in repo.movements if (m["node_code"], m["material_code"]) == key)
            == repo.stock[key].on_hand
        )

    again = await transfers.receive(uow, "T1", [("B", 2), ("A", 5)])
    assert not again.created and repo.stock[(OTHER, "A")].on_hand == 5
    with pytest.raises(IdempotencyConflict):
        await transfers.receive(uow, "T1", [("A", 6), ("B", 2)])
    with pytest.raises(Refused, match="only a created"):
        await transfers.cancel(uow, "T1")


async def test_shipping_beyond_available_is_refused_for_every_short_line_and_moves_nothing(uow, repo):
    await stock_up(uow, {"A": 10, "B": 1})
    await service.handle_batch(uow, [requested("R1", "O1", {"A": 7})])
    await transfers.create(uow, tcmd())
    with pytest.raises(Refused, match="A needs 6, available 3; B needs 2, available 1") as refused:
        await transfers.ship(uow, "T1")
    assert [s["material_code"] for s in refused.value.numbers["short"]] == ["A", "B"]
    assert (repo.stock[(NODE, "A")].on_hand, repo.transit, repo.transfers["T1"].status) == (10, {}, "created")


async def test_bad_transfers_and_receipts_list_every_problem(uow, repo):
    with pytest.raises(Problems) as bad:
        await transfers.create(uow, tcmd(lines=[("A", -1), ("A", 2)], target=NODE))
    assert [p for p, _ in bad.value.problems] == ["target_node", "lines[0].qty", "lines[1].material_code"]
    await stock_up(uow, {"A": 10, "B": 2})
    await transfers.create(uow, tcmd())
    with pytest.raises(Refused, match="only a shipped"):
        await transfers.receive(uow, "T1", [("A", 6), ("B", 2)])
    await transfers.ship(uow, "T1")
    with pytest.raises(Problems) as bad:
        await transfers.receive(uow, "T1", [("A", 7), ("Z", 1)])
    assert [p for p, _ in bad.value.problems] == ["lines[0].received", "lines[1].material_code", "lines"]
    assert repo.transfers["T1"].status == "shipped" and await repo.in_transit_of(OTHER, "A") == 6
    with pytest.raises(NotFound):
        await transfers.ship(uow, "NOPE")


async def test_a_transfer_cancels_only_before_it_ships_and_repeats_are_harmless(uow, repo):
    await stock_up(uow, {"A": 10, "B": 2})
    await transfers.create(uow, tcmd())
    assert not (await transfers.create(uow, tcmd())).created
    with pytest.raises(IdempotencyConflict, match="new transfer id"):
        await transfers.create(uow, tcmd(lines=[("A", 1)]))
    cancelled = await transfers.cancel(uow, "T1")
    assert cancelled.created and cancelled.transfer.status == "cancelled"
    assert not (await transfers.cancel(uow, "T1")).created
    with pytest.raises(Refused, match="is cancelled"):
        await transfers.ship(uow, "T1")
    assert repo.stock[(NODE, "A")].on_hand == 10
    listed, total = await transfers.list_transfers(
        uow, status="cancelled", node=OTHER, source=None, target=None, limit=10, offset=0
    )
    assert total == 1 and listed[0].transfer_id == "T1"
