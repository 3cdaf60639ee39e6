"""Freezes on the fake unit of work: held back from available, idempotent, released whole, never oversold."""

from __future__ import annotations

import pytest

from omni_inventory import service
from omni_inventory.domain.model import FreezeRefused, IdempotencyConflict, InvalidRequest
from omni_inventory.service import freezes
from omni_inventory.service.freezes import FreezeCommand, FreezeNotFound

from .test_use_cases import NODE, level, requested, stock_up


def cmd(fid: str = "F1", qty: int = 4, material: str = "A", reason: str = "quality hold") -> FreezeCommand:
    return FreezeCommand(fid, NODE, material, qty, reason)


def stock_events(uow) -> list:
    return [e.data for e in uow.committed_events if e.event_type == "inventory.stock-changed"]


async def test_a_freeze_lowers_available_writes_the_ledger_and_tells_everyone(uow, repo):
    await stock_up(uow, {"A": 10})
    result = await freezes.freeze(uow, cmd())
    assert result.created and (result.stock.frozen, result.stock.available) == (4, 6)
    assert repo.movements[-1]["kind"] == "freeze" and repo.movements[-1]["frozen_after"] == 4
    last = stock_events(uow)[-1]
    assert (last.movement, last.frozen, last.available) == ("freeze", 4, 6)
    assert type(last).__name__ == "StockChangedV3"


async def test_reservations_cannot_take_frozen_stock(uow, repo):
    await stock_up(uow, {"A": 10})
    await freezes.freeze(uow, cmd(qty=8))
    await service.handle_batch(uow, [requested("R1", "O1", {"A": 3})])
    refused = [e.data for e in uow.committed_events if e.event_type == "inventory.reservation-refused"]
    assert refused and refused[0].shortfall[0].available == 2
    assert level(repo, "A")[:2] == (10, 0)


async def test_a_freeze_beyond_available_is_refused_with_the_numbers_and_leaves_nothing(uow, repo):
    await stock_up(uow, {"A": 5})
    await service.handle_batch(uow, [requested("R1", "O1", {"A": 3})])
    with pytest.raises(
        FreezeRefused, match=r"cannot freeze 3 of A .*only 2 available \(on hand 5, reserved 3"
    ):
        await freezes.freeze(uow, cmd(qty=3))
    assert repo.freezes == {} and repo.stock[(NODE, "A")].frozen == 0
    with pytest.raises(FreezeRefused, match="only 0 available"):
        await freezes.freeze(uow, cmd(material="NOPE", qty=1))  # no stock row at all


async def test_a_repeated_freeze_changes_nothing_and_other_content_is_a_conflict(uow, repo):
    await stock_up(uow, {"A": 10})
    await freezes.freeze(uow, cmd())
    again = await freezes.freeze(uow, cmd())
    assert not again.created and repo.stock[(NODE, "A")].frozen == 4
    with pytest.raises(IdempotencyConflict, match="use a new freeze id"):
        await freezes.freeze(uow, cmd(qty=5))


async def test_releasing_gives_all_of_it_back_once(uow, repo):
    await stock_up(uow, {"A": 10})
    await freezes.freeze(uow, cmd())
    released = await freezes.release(uow, "F1", "checked: good")
    assert released.created and released.freeze.release_reason == "checked: good"
    assert (released.stock.frozen, released.stock.available) == (0, 10)
    assert stock_events(uow)[-1].movement == "unfreeze"
    twice = await freezes.release(uow, "F1", "again")
    assert not twice.created and repo.stock[(NODE, "A")].frozen == 0
    active, total = await freezes.list_freezes(uow, node=NODE, material=None, active=True, limit=10, offset=0)
    assert (active, total) == ([], 0)
    with pytest.raises(FreezeNotFound):
        await freezes.release(uow, "NOPE", "x")


@pytest.mark.parametrize(("qty", "reason", "match"), [(0, "r", "positive"), (-1, "r", "positive"),
                                                      (1, "  ", "needs a reason")])  # fmt: skip
async def test_bad_freezes_are_refused(uow, qty, reason, match):
    with pytest.raises(InvalidRequest, match=match):
        await freezes.freeze(uow, cmd(qty=qty, reason=reason))
