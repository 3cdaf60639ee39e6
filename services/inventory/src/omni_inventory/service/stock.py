"""Use cases of physical stock: receipts, adjustments, and what the API reads (stock rows and the ledger)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from omni_chassis.logging import get_logger
from omni_contracts import utcnow

from ..domain.model import (
    IdempotencyConflict,
    InvalidRequest,
    InventoryError,
    StockLevel,
    check_adjustment,
    distinct_lines,
)
from ..records import AdjustmentRow, ReceiptRow, StockRow
from .changes import StockChanges, Uow

log = get_logger(__name__)


@dataclass(frozen=True)
class LineResult:
    """One line of a receipt or adjustment with the stock row's state right after it."""

    material_code: str
    qty: int
    on_hand: int
    reserved: int
    frozen: int
    seq: int

    @property
    def available(self) -> int:
        return StockLevel(self.on_hand, self.reserved, self.frozen).available


def _after(row: StockRow, qty: int) -> LineResult:
    return LineResult(row.material_code, qty, row.on_hand, row.reserved, row.frozen, row.seq)


async def _recorded_lines(uow: Uow, reference: str, kind: str) -> list[LineResult]:
    rows, _ = await uow.repo.list_movements(
        node=None, material=None, reference=reference, kind=kind, limit=10_000, offset=0
    )
    cols = ("material_code", "delta_on_hand", "on_hand_after", "reserved_after", "frozen_after", "seq")
    found = (LineResult(*(r[c] for c in cols)) for r in rows)
    return sorted(found, key=lambda x: x.material_code)


# -- receipts ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReceiveCommand:
    receipt_id: str
    node_code: str
    lines: list[tuple[str, int]]
    note: str = ""


@dataclass(frozen=True)
class ReceiptResult:
    receipt: ReceiptRow
    lines: list[LineResult]
    created: bool


async def receive(uow: Uow, cmd: ReceiveCommand) -> ReceiptResult:
    """Goods arrived at a node. Idempotent per receipt id; the same id with other content is a conflict."""
    lines = distinct_lines(cmd.lines)
    now = utcnow()
    async with uow:
        if not await uow.repo.claim_receipt(cmd.receipt_id, cmd.node_code, lines, cmd.note, now):
            done = await uow.repo.get_receipt(cmd.receipt_id)
            assert done is not None
            if (done.node_code, done.lines, done.note) != (cmd.node_code, lines, cmd.note):
                raise IdempotencyConflict(
                    f"receipt {cmd.receipt_id} was already recorded with other content "
                    f"(node {done.node_code}, {len(done.lines)} line(s)); use a new receipt id"
                )
            recorded = await _recorded_lines(uow, cmd.receipt_id, "receipt")
            return ReceiptResult(done, recorded, created=False)
        rows = await uow.repo.receive(cmd.node_code, lines, now)
        changes = StockChanges()
        for row, line in zip(rows, lines, strict=True):
            changes.stock(row, "receipt", cmd.receipt_id, line.qty, 0, None)
        changes.publish(uow)
    log.info("receipt recorded", receipt_id=cmd.receipt_id, node_code=cmd.node_code, lines=len(lines))
    receipt = ReceiptRow(cmd.receipt_id, cmd.node_code, lines, cmd.note, now)
    return ReceiptResult(receipt, [_after(r, x.qty) for r, x in zip(rows, lines, strict=True)], created=True)


# -- adjustments ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AdjustCommand:
    adjustment_id: str
    node_code: str
    material_code: str
    delta: int
    reason: str


@dataclass(frozen=True)
class AdjustmentResult:
    adjustment: AdjustmentRow
    after: LineResult
    created: bool


async def adjust(uow: Uow, cmd: AdjustCommand) -> AdjustmentResult:
    """Correct on hand (a count, damage, loss). Refused when on hand would fall below reserved + frozen."""
    if cmd.delta == 0:
        raise InvalidRequest("delta must not be 0")
    if not cmd.reason.strip():
        raise InvalidRequest("an adjustment needs a reason")
    now = utcnow()
    key = (cmd.node_code, cmd.material_code, cmd.delta, cmd.reason)
    async with uow:
        if not await uow.repo.claim_adjustment(cmd.adjustment_id, *key, now):
            done = await uow.repo.get_adjustment(cmd.adjustment_id)
            assert done is not None
            if (done.node_code, done.material_code, done.delta, done.reason) != key:
                raise IdempotencyConflict(
                    f"adjustment {cmd.adjustment_id} was already recorded with other content "
                    f"({done.material_code} at node {done.node_code} by {done.delta}); "
                    "use a new adjustment id"
                )
            (after,) = await _recorded_lines(uow, cmd.adjustment_id, "adjustment")
            return AdjustmentResult(done, after, created=False)
        row = await uow.repo.adjust(cmd.node_code, cmd.material_code, cmd.delta, now)
        if row is None:
            current = await uow.repo.get_stock(cmd.node_code, cmd.material_code)
            level = current.level if current else StockLevel(0)
            check_adjustment(cmd.node_code, cmd.material_code, level, cmd.delta)  # raises AdjustmentRefused
            raise InventoryError(
                f"stock of {cmd.material_code} at node {cmd.node_code} changed while adjusting; try again"
            )
        changes = StockChanges()
        changes.stock(row, "adjustment", cmd.adjustment_id, cmd.delta, 0, None)
        changes.publish(uow)
    log.info(
        "stock adjusted",
        adjustment_id=cmd.adjustment_id,
        node_code=cmd.node_code,
        material_code=cmd.material_code,
        delta=cmd.delta,
    )
    adj = AdjustmentRow(cmd.adjustment_id, cmd.node_code, cmd.material_code, cmd.delta, cmd.reason, now)
    return AdjustmentResult(adj, _after(row, cmd.delta), created=True)


# -- queries ----------------------------------------------------------------------------------------------
async def get_stock(uow: Uow, node: str, material: str) -> StockRow | None:
    async with uow:
        return await uow.repo.get_stock(node, material)


async def list_stock(
    uow: Uow, *, node: str | None, material: str | None, limit: int, offset: int
) -> tuple[list[StockRow], int]:
    async with uow:
        return await uow.repo.list_stock(node=node, material=material, limit=limit, offset=offset)


async def list_movements(
    uow: Uow,
    *,
    node: str | None,
    material: str | None,
    reference: str | None,
    kind: str | None,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
    async with uow:
        return await uow.repo.list_movements(
            node=node, material=material, reference=reference, kind=kind, limit=limit, offset=offset
        )
