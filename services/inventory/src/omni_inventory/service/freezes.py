"""Use cases of frozen stock (库存冻结): hold a quantity back with a reason, and let it go.

A freeze stays on hand and is not available: reservations and every sellable number downstream see less.
It is one conditional UPDATE (available >= qty), so it never takes stock a reservation holds. Releasing a
freeze gives all of it back. Both are idempotent per freeze id, write a ledger row (kind `freeze` /
`unfreeze`, frozen_after) and publish `inventory.stock-changed` (v2).
"""

from __future__ import annotations

from dataclasses import dataclass

from omni_chassis.logging import get_logger
from omni_contracts import utcnow

from ..domain.model import FreezeRefused, IdempotencyConflict, InvalidRequest, InventoryError, StockLevel
from ..records import FreezeRow, StockRow
from .changes import StockChanges, Uow

log = get_logger(__name__)
_SPACE = " \t\r\n"  # what the API's reason pattern allows around the text


class FreezeNotFound(InventoryError):
    """No freeze with that id (a 404 at the edge)."""


@dataclass(frozen=True)
class FreezeCommand:
    freeze_id: str
    node_code: str
    material_code: str
    qty: int
    reason: str


@dataclass(frozen=True)
class FreezeResult:
    freeze: FreezeRow
    stock: StockRow | None  # the stock row right after (None when answering a repeat)
    created: bool


async def freeze(uow: Uow, cmd: FreezeCommand) -> FreezeResult:
    """Hold `qty` of a material at a node back. Refused (FreezeRefused, with the numbers) beyond available."""
    if cmd.qty <= 0:
        raise InvalidRequest(f"qty must be positive, got {cmd.qty}")
    if not cmd.reason.strip(_SPACE):
        raise InvalidRequest("a freeze needs a reason")
    now = utcnow()
    row = FreezeRow(cmd.freeze_id, cmd.node_code, cmd.material_code, cmd.qty, cmd.reason.strip(_SPACE), now)
    async with uow:
        if not await uow.repo.claim_freeze(row):
            done = await uow.repo.get_freeze(cmd.freeze_id)
            assert done is not None
            if (done.node_code, done.material_code, done.qty, done.reason) != (
                row.node_code, row.material_code, row.qty, row.reason
            ):  # fmt: skip
                raise IdempotencyConflict(
                    f"freeze {cmd.freeze_id} was already recorded with other content ({done.qty} of "
                    f"{done.material_code} at node {done.node_code}); use a new freeze id"
                )
            return FreezeResult(done, None, created=False)
        stock = await uow.repo.freeze_stock(cmd.node_code, cmd.material_code, cmd.qty, now)
        if stock is None:
            current = await uow.repo.get_stock(cmd.node_code, cmd.material_code)
            level = current.level if current else StockLevel(0)
            raise FreezeRefused(cmd.node_code, cmd.material_code, level, cmd.qty)
        changes = StockChanges()
        changes.stock(stock, "freeze", cmd.freeze_id, 0, 0, None)
        changes.publish(uow)
    log.info("stock frozen", freeze_id=cmd.freeze_id, node_code=cmd.node_code,
             material_code=cmd.material_code, qty=cmd.qty)  # fmt: skip
    return FreezeResult(row, stock, created=True)


async def release(uow: Uow, freeze_id: str, reason: str) -> FreezeResult:
    """Give a freeze's whole quantity back. Releasing a released freeze changes nothing (created=False)."""
    if not reason.strip(_SPACE):
        raise InvalidRequest("releasing a freeze needs a reason")
    now = utcnow()
    async with uow:
        found = await uow.repo.get_freeze(freeze_id, for_update=True)
        if found is None:
            raise FreezeNotFound(f"no freeze {freeze_id!r}")
        if not found.active:
            return FreezeResult(found, None, created=False)
        stock = await uow.repo.unfreeze_stock(found.node_code, found.material_code, found.qty, now)
        if stock is None:  # the row holds less frozen than this freeze: the data is inconsistent
            raise InventoryError(
                f"freeze {freeze_id} holds {found.qty} of {found.material_code} at node {found.node_code}, "
                "but the stock row has less frozen: cannot release it"
            )
        await uow.repo.mark_released(freeze_id, reason.strip(_SPACE), now)
        changes = StockChanges()
        changes.stock(stock, "unfreeze", freeze_id, 0, 0, None)
        changes.publish(uow)
    log.info("freeze released", freeze_id=freeze_id, qty=found.qty)
    released = FreezeRow(found.freeze_id, found.node_code, found.material_code, found.qty, found.reason,
                         found.created_at, now, reason.strip(_SPACE))  # fmt: skip
    return FreezeResult(released, stock, created=True)


async def get_freeze(uow: Uow, freeze_id: str) -> FreezeRow | None:
    async with uow:
        return await uow.repo.get_freeze(freeze_id)


async def list_freezes(
    uow: Uow, *, node: str | None, material: str | None, active: bool | None, limit: int, offset: int
) -> tuple[list[FreezeRow], int]:
    async with uow:
        return await uow.repo.list_freezes(node=node, material=material, active=active, limit=limit,
                                           offset=offset)  # fmt: skip
