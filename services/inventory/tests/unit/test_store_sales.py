"""Store sales and till returns (service/store_sales.py) on the in-memory repository: a sale takes each
material of its lines out of the store node (bundles decomposed), a return puts them back, a repeat changes
nothing, a sale beyond what is available books what there is and records the rest."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from fakes_store_sales import AT, FakeStoreSales, sale, till_return

from omni_chassis.uow import FakeUnitOfWork
from omni_inventory.domain.model import Line
from omni_inventory.service import store_sales

NODE = "STORE-HZ"


@pytest.fixture
async def repo() -> FakeStoreSales:
    r = FakeStoreSales()
    r.products = {"SP-SET": [("M-MACHINE", 1), ("M-GRINDER", 1)], "SP-BEAN": [("M-BEAN", 1)]}
    await r.receive(NODE, [Line("M-MACHINE", 5), Line("M-GRINDER", 5), Line("M-BEAN", 10)], AT)
    return r


async def run(repo: FakeStoreSales, *envs) -> FakeUnitOfWork:
    uow = FakeUnitOfWork(repo)
    await store_sales.handle_batch(uow, list(envs))
    return uow


async def test_a_sale_takes_each_material_out_of_the_store(repo):
    uow = await run(repo, sale("U1", [("1", "SP-SET", 1, 300775), ("2", "SP-BEAN", 3, 28825)]))
    assert {m: repo.on_hand(NODE, m).on_hand for m in ("M-MACHINE", "M-GRINDER", "M-BEAN")} == {
        "M-MACHINE": 4, "M-GRINDER": 4, "M-BEAN": 7}  # fmt: skip
    changed = uow.of_type("inventory.stock-changed")
    assert {(e.data.material_code, e.data.on_hand, e.data.movement, e.event_version) for e in changed} == {
        ("M-MACHINE", 4, "store-sale", 4),
        ("M-GRINDER", 4, "store-sale", 4),
        ("M-BEAN", 7, "store-sale", 4),
    }
    ledger = [
        (m["material_code"], m["kind"], m["delta_on_hand"], m["reference"]) for m in repo.movements[-3:]
    ]
    assert ("M-BEAN", "store-sale", -3, "pos:HZ-01:U1") in ledger


async def test_the_same_sale_again_changes_nothing(repo):
    env = sale("U1", [("2", "SP-BEAN", 3, 28825)])
    await run(repo, env)
    again = await run(repo, sale("U1", [("2", "SP-BEAN", 3, 28825)]))  # a new event for the same sale
    assert repo.on_hand(NODE, "M-BEAN").on_hand == 7
    assert again.published == []


async def test_a_till_return_restocks_good_stock(repo):
    await run(repo, sale("U1", [("2", "SP-BEAN", 3, 28825)]))
    uow = await run(repo, till_return("R1", [("1", "SP-BEAN", 2, 19800)]))
    assert repo.on_hand(NODE, "M-BEAN").on_hand == 9
    (ev,) = uow.of_type("inventory.stock-changed")
    assert (ev.data.movement, ev.data.on_hand) == ("store-return", 9)
    await run(repo, till_return("R1", [("1", "SP-BEAN", 2, 19800)]))
    assert repo.on_hand(NODE, "M-BEAN").on_hand == 9


async def test_a_return_to_a_store_without_the_material_creates_its_stock(repo):
    await run(repo, till_return("R2", [("1", "SP-BEAN", 1, 9900)], node="STORE-SH"))
    assert repo.on_hand("STORE-SH", "M-BEAN").on_hand == 1


async def test_a_sale_beyond_available_books_what_there_is_and_keeps_reservations(repo):
    await repo.try_reserve(NODE, "M-BEAN", 4, AT)  # promised to an online order
    await run(repo, sale("U2", [("1", "SP-BEAN", 9, 89100)]))
    row = repo.on_hand(NODE, "M-BEAN")
    assert (row.on_hand, row.reserved) == (4, 4)  # 6 available were booked; never below reserved
    (line,) = repo.store_lines.values()
    assert (line["qty"], line["booked"]) == (9, 6)


async def test_nothing_available_books_nothing_and_publishes_nothing(repo):
    uow = await run(repo, sale("U3", [("1", "SP-BEAN", 2, 19800)], node="STORE-EMPTY"))
    assert uow.published == [] and repo.store_lines["pos:HZ-01:U3:1:M-BEAN"]["booked"] == 0


async def test_an_unknown_sales_product_is_refused_and_nothing_is_applied(repo):
    with pytest.raises(store_sales.UnknownSalesProduct, match="SP-NOPE"):
        await run(repo, sale("U4", [("1", "SP-BEAN", 1, 9900), ("2", "SP-NOPE", 1, 100)]))
    assert repo.on_hand(NODE, "M-BEAN").on_hand == 10 and repo.store_lines == {}
