"""Store sales and till returns on real PostgreSQL (service/store_sales.py, store_pos.py): the conditional
take, the ledger kinds and their CHECK, store_sale_lines as the idempotency record, stock-changed v4."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from inventory_helpers import outbox, receive, rows, stock_of, uid, uow
from test_listing_stock import product

sys.path.insert(0, str(Path(__file__).parents[1] / "unit"))
from fakes_store_sales import sale, till_return

from omni_inventory.service import freezes, listings, store_sales

pytestmark = pytest.mark.integration
NODE = "STORE-HZ"


@pytest.fixture
async def materials(db):
    bean, machine = uid("BEAN"), uid("MACH")
    sp_bean, sp_set = uid("SP-BEAN"), uid("SP-SET")
    await listings.handle_batch(
        uow(db), [product(sp_bean, {bean: 1}), product(sp_set, {machine: 1, bean: 2})]
    )
    await receive(db, NODE, {bean: 10, machine: 2})
    return bean, machine, sp_bean, sp_set


async def test_sale_then_return_on_real_postgres(db, materials):
    bean, machine, sp_bean, sp_set = materials
    u = uid("U")
    env = sale(u, [("1", sp_set, 1, 300775), ("2", sp_bean, 3, 28825)])
    await store_sales.handle_batch(uow(db), [env])
    assert (await stock_of(db, NODE, bean)).on_hand == 5  # 2 in the set, 3 loose
    assert (await stock_of(db, NODE, machine)).on_hand == 1
    ledger = await rows(db, "SELECT kind, delta_on_hand FROM movements WHERE reference = :r ORDER BY id",
                        r=f"pos:HZ-01:{u}")  # fmt: skip
    assert sorted((r.kind, r.delta_on_hand) for r in ledger) == [
        ("store-sale", -3), ("store-sale", -2), ("store-sale", -1)]  # fmt: skip
    staged = await outbox(db, "inventory.stock-changed", key=f"{NODE}:{bean}")
    assert staged[-1]["event_version"] == 4 and staged[-1]["data"]["movement"] == "store-sale"

    await store_sales.handle_batch(uow(db), [sale(u, [("1", sp_set, 1, 300775), ("2", sp_bean, 3, 28825)])])
    assert (await stock_of(db, NODE, bean)).on_hand == 5  # the same sale again: nothing

    await store_sales.handle_batch(uow(db), [till_return(uid("R"), [("1", sp_bean, 2, 19800)])])
    assert (await stock_of(db, NODE, bean)).on_hand == 7


async def test_oversale_books_the_available_and_keeps_frozen_stock(db, api, materials):
    bean, _, sp_bean, _ = materials
    await freezes.freeze(uow(db), freezes.FreezeCommand(uid("F"), NODE, bean, 4, "damaged shelf"))
    u = uid("U")
    await store_sales.handle_batch(uow(db), [sale(u, [("1", sp_bean, 9, 89100)])])
    row = await stock_of(db, NODE, bean)
    assert (row.on_hand, row.frozen) == (4, 4)
    (line,) = await rows(
        db, "SELECT qty, booked FROM store_sale_lines WHERE document = :d", d=f"pos:HZ-01:{u}"
    )
    assert (line.qty, line.booked) == (9, 6)
    r = await api.get("/store-sales/short-lines", params={"node_code": NODE})
    assert r.status_code == 200, r.text
    assert r.json()["total"] == 1
    assert [(x["document"], x["material_code"], x["qty"], x["booked"]) for x in r.json()["items"]] == [
        (f"pos:HZ-01:{u}", bean, 9, 6)
    ]
