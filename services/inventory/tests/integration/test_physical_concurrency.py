"""Quality moves, transfers and reservations racing for one hot row on the real PostgreSQL: what each took
adds up, nothing is oversold, the ledger sums to on hand; and inventory0005 downgrades and upgrades again."""

from __future__ import annotations

import asyncio

import pytest
from alembic import command
from inventory_helpers import MIGRATIONS, receive, requested, rows, stock_of, uid, uow

from omni_chassis.migrate import _config
from omni_inventory import service
from omni_inventory.domain.physical import Refused
from omni_inventory.service import quality, transfers

pytestmark = pytest.mark.integration


async def test_moves_transfers_and_reservations_racing_for_fifty_units_never_oversell(db):
    node, target, material = uid("WH"), uid("STORE"), "HOT-1"
    await receive(db, node, {material: 50})
    tids = [uid("tr") for _ in range(20)]
    for tid in tids:
        cmd = transfers.TransferCommand(tid, node, target, [(material, 2)])
        await transfers.create(uow(db), cmd)
    gate = asyncio.Semaphore(16)
    taken = {"reserved": 0, "moved": 0, "shipped": 0, "refused": 0}

    async def reserve():
        async with gate:
            outcome = await service.reserve(uow(db), requested(uid("R"), uid("O"), node, {material: 1}))
            taken["reserved" if outcome.value == "reserved" else "refused"] += 1

    async def move():
        async with gate:
            cmd = quality.QualityMoveCommand(uid("qm"), node, material, 1, "good", "defective", "damaged")
            try:
                await quality.move(uow(db), cmd)
                taken["moved"] += 1
            except Refused:
                taken["refused"] += 1

    async def ship(tid):
        async with gate:
            try:
                await transfers.ship(uow(db), tid)
                taken["shipped"] += 2
            except Refused:
                taken["refused"] += 1

    # interleaved, so that every kind competes from the start
    jobs = [
        j
        for i in range(30)
        for j in (reserve(), move() if i < 20 else None, ship(tids[i]) if i < 20 else None)
        if j is not None
    ]
    await asyncio.gather(*jobs)

    row = await stock_of(db, node, material)
    assert taken["reserved"] + taken["moved"] + taken["shipped"] <= 50 and taken["refused"] > 0
    assert min(taken["reserved"], taken["moved"], taken["shipped"]) > 0, taken
    assert (row.on_hand, row.reserved) == (50 - taken["moved"] - taken["shipped"], taken["reserved"])
    assert row.on_hand >= row.reserved + row.frozen
    (defective,) = await rows(db, "SELECT qty FROM quality_stock WHERE node_code = :n", n=node)
    assert defective.qty == taken["moved"]
    (transit,) = await rows(db, "SELECT qty FROM in_transit WHERE node_code = :n", n=target)
    assert transit.qty == taken["shipped"]
    (total,) = await rows(
        db,
        "SELECT sum(delta_on_hand) AS s FROM movements WHERE node_code = :n AND material_code = :m",
        n=node,
        m=material,
    )
    assert total.s == row.on_hand, "the ledger sums to on hand"
    seqs = await rows(db, "SELECT seq FROM movements WHERE node_code = :n ORDER BY seq", n=node)
    assert [r.seq for r in seqs] == list(range(1, row.seq + 1)), "one ledger row per change, none lost"


async def test_inventory0005_downgrades_and_upgrades_again(db):
    node = uid("WH")
    await receive(db, node, {"A": 3})
    await quality.move(uow(db), quality.QualityMoveCommand(uid("qm"), node, "A", 1, "good", "defective", "x"))
    cfg = _config(db.dsn, MIGRATIONS, "alembic_version")
    await asyncio.to_thread(command.downgrade, cfg, "inventory0004")
    tables = {
        r.tablename for r in await rows(db, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    }
    assert not tables & {"quality_stock", "quality_moves", "counts", "transfers", "in_transit"}
    assert {r.kind for r in await rows(db, "SELECT kind FROM movements")} == {"receipt"}
    await asyncio.to_thread(command.upgrade, cfg, "head")
    cmd = transfers.TransferCommand(uid("tr"), node, uid("STORE"), [("A", 1)])
    await transfers.create(uow(db), cmd)
    assert (await transfers.ship(uow(db), cmd.transfer_id)).transfer.status == "shipped"
