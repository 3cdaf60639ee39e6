"""After-sales returns (service/returns.py) through the `inventory-orders` batch on the in-memory repository:
good units back into good stock (ledger `return-restock`, stock-changed), defective units into defective
stock (never sellable), a repair moves nothing, a repeat of a case line changes nothing."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import get_args

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from fakes_returns import AT, FakeReturns, returned

from omni_chassis.uow import FakeUnitOfWork
from omni_inventory import consumers, service
from omni_inventory.domain.model import Line
from omni_inventory.records import MOVEMENTS
from omni_inventory.records_physical import MovementKind
from omni_inventory.service import quality

NODE = "WH1"


@pytest.fixture
async def repo() -> FakeReturns:
    r = FakeReturns()
    await r.receive(NODE, [Line("A", 5)], AT)
    await r.try_reserve(NODE, "A", 1, AT)
    return r


async def run(repo: FakeReturns, *envs) -> FakeUnitOfWork:
    uow = FakeUnitOfWork(repo)
    await service.handle_batch(uow, list(envs))
    return uow


def ledger(repo: FakeReturns, reference: str) -> list[tuple[str, str, int, int]]:
    return [(m["material_code"], m["kind"], m["delta_on_hand"], m["on_hand_after"])
            for m in repo.movements if m["reference"] == reference]  # fmt: skip


async def test_good_units_restock_and_defective_ones_go_to_defective(repo):
    uow = await run(repo, returned("C1", NODE, [("1", "A", 2, 1)]))
    row = repo.stock[(NODE, "A")]
    assert (row.on_hand, row.reserved, row.available) == (7, 1, 6)  # +2 good, sellable
    view = await quality.stock_view(FakeUnitOfWork(repo), NODE, "A")
    assert view.defective == 1 and view.level.available == 6  # the defective one is not available
    assert ledger(repo, "aftersales:C1") == [("A", "return-restock", 2, 7)]
    (ev,) = uow.of_type("inventory.stock-changed")
    assert (ev.event_version, ev.data.movement, ev.data.on_hand, ev.data.available) == (
        5,
        "return-restock",
        7,
        6,
    )
    assert ev.key == f"{NODE}:A"
    assert repo.return_lines[("C1", "1")]["good_qty"] == 2


async def test_a_redelivery_or_a_second_event_for_the_line_changes_nothing(repo):
    await run(repo, returned("C1", NODE, [("1", "A", 2, 1)]))
    again = await run(repo, returned("C1", NODE, [("1", "A", 2, 1)]))  # a new event id: past the inbox
    other = await run(repo, returned("C1", NODE, [("1", "A", 3, 0)]))  # the same line, other numbers
    assert (repo.stock[(NODE, "A")].on_hand, repo.quality[(NODE, "A", "defective")].qty) == (7, 1)
    assert again.published == [] and other.published == []
    assert len(ledger(repo, "aftersales:C1")) == 1


async def test_a_new_line_of_a_case_applies_beside_the_applied_one(repo):
    await run(repo, returned("C1", NODE, [("1", "A", 2, 0)]))
    await run(repo, returned("C1", NODE, [("1", "A", 2, 0), ("2", "B", 1, 0)]))
    assert (repo.stock[(NODE, "A")].on_hand, repo.stock[(NODE, "B")].on_hand) == (7, 1)


async def test_a_line_twice_in_one_event_is_applied_once(repo):
    await run(repo, returned("C1", NODE, [("1", "A", 2, 0), ("1", "A", 2, 0)]))
    assert repo.stock[(NODE, "A")].on_hand == 7


async def test_a_repair_moves_nothing(repo):
    before = dict(repo.stock)
    uow = await run(repo, returned("C2", NODE, [("1", "A", 1, 0)], kind="repair", restock=False))
    assert repo.stock == before and repo.quality == {} and repo.return_lines == {}
    assert uow.published == [] and ledger(repo, "aftersales:C2") == []


async def test_a_return_to_a_node_without_the_material_creates_its_stock(repo):
    uow = await run(repo, returned("C3", "STORE-NEW", [("1", "A", 1, 0), ("2", "B", 0, 2)]))
    row = repo.stock[("STORE-NEW", "A")]
    assert (row.on_hand, row.available) == (1, 1)
    # defective only: into defective stock, no good stock row, nothing sellable, no stock-changed for it
    assert ("STORE-NEW", "B") not in repo.stock and repo.quality[("STORE-NEW", "B", "defective")].qty == 2
    assert [e.key for e in uow.of_type("inventory.stock-changed")] == ["STORE-NEW:A"]


async def test_defective_only_lines_publish_nothing(repo):
    uow = await run(repo, returned("C4", NODE, [("1", "A", 0, 2)]))
    assert uow.published == [] and repo.stock[(NODE, "A")].on_hand == 5
    assert repo.quality[(NODE, "A", "defective")].qty == 2


async def test_the_batch_locks_the_stock_rows_a_return_changes(repo):
    await run(repo, returned("C5", NODE, [("1", "A", 1, 0), ("2", "Z", 0, 1)]))
    assert repo.locked[-1] == [(NODE, "A")]  # good stock it changes; defective-only lines touch no stock row


def test_the_orders_consumer_subscribes_to_returns_in_its_group():
    spec = next(s for s in consumers.specs() if s.group == "inventory-orders")
    assert spec.event_types == {"order.cancelled", "order.return-received"}


def test_the_ledger_api_filters_by_every_ledger_kind():
    assert set(get_args(MovementKind)) == set(MOVEMENTS)  # return-restock (and the store kinds) included
