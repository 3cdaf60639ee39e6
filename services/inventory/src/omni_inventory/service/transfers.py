"""Use cases of transfers between nodes 调拨 and the stock in transit.

created -> shipped: every line leaves the source's good stock (one conditional UPDATE per line on
available, all lines or none: a savepoint) and is added to the target's in-transit; ledger `transfer-out`.
shipped -> received: with a received quantity per line (0 <= received <= shipped), the in-transit is
cleared and the target's on hand rises by what was received (its stock row created if absent). The target's
ledger books the shipment in (`transfer-in`, +shipped) and a short receipt out as a loss (`transfer-loss`,
-lost), so the loss is in the ledger with its quantity, and the ledger still sums to on hand; the transfer's
line keeps (qty, received, lost). created -> cancelled only. Every step is idempotent: repeating it answers
the transfer as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from omni_chassis.logging import get_logger
from omni_contracts import utcnow

from ..domain.model import IdempotencyConflict, InventoryError, Line, shortfall
from ..domain.physical import (
    NotFound,
    Refused,
    TransferStatus,
    check_received,
    check_transfer,
    raise_problems,
)
from ..records_physical import TransferLine, TransferRow, TransitQty
from .changes import StockChanges, Uow

log = get_logger(__name__)
S = TransferStatus


@dataclass(frozen=True)
class TransferCommand:
    transfer_id: str
    source_node: str
    target_node: str
    lines: list[tuple[str, int]]
    note: str = ""


@dataclass(frozen=True)
class TransferResult:
    transfer: TransferRow
    created: bool  # False: the request was a repeat and changed nothing


async def create(uow: Uow, cmd: TransferCommand) -> TransferResult:
    raise_problems(check_transfer(cmd.source_node, cmd.target_node, cmd.lines))
    lines = [TransferLine(m, q) for m, q in sorted(cmd.lines)]
    now = utcnow()
    row = TransferRow(
        cmd.transfer_id, cmd.source_node, cmd.target_node, S.CREATED.value, lines, cmd.note, now, now
    )
    async with uow:
        if not await uow.repo.claim_transfer(row):
            done = await uow.repo.get_transfer(cmd.transfer_id)
            assert done is not None
            asked = [(x.material_code, x.qty) for x in done.lines]
            if (done.source_node, done.target_node, asked, done.note) != (
                cmd.source_node,
                cmd.target_node,
                [(x.material_code, x.qty) for x in lines],
                cmd.note,
            ):
                raise IdempotencyConflict(
                    f"transfer {cmd.transfer_id} was already recorded with other content "
                    f"({done.source_node} -> "
                    f"{done.target_node}, {len(done.lines)} line(s)); use a new transfer id"
                )
            return TransferResult(done, created=False)
    log.info("transfer created", transfer_id=cmd.transfer_id, source=cmd.source_node, target=cmd.target_node)
    return TransferResult(row, created=True)


async def _locked(uow: Uow, transfer_id: str) -> TransferRow:
    found = await uow.repo.get_transfer(transfer_id, for_update=True)
    if found is None:
        raise NotFound(f"no transfer {transfer_id!r}")
    return found


def _wrong_state(t: TransferRow, action: str, allowed: str) -> Refused:
    return Refused(
        f"transfer {t.transfer_id} is {t.status}: only {allowed} transfer can be {action}",
        transfer_id=t.transfer_id,
        transfer_status=t.status,
    )


async def ship(uow: Uow, transfer_id: str) -> TransferResult:
    """Take every line out of the source (409 with the numbers of every short line) into in-transit."""
    now = utcnow()
    async with uow:
        t = await _locked(uow, transfer_id)
        if t.status in (S.SHIPPED, S.RECEIVED):
            return TransferResult(t, created=False)
        if t.status != S.CREATED:
            raise _wrong_state(t, "shipped", "a created")
        lines = [Line(x.material_code, x.qty) for x in t.lines]
        rows = await uow.repo.take_good_all(t.source_node, lines, now)
        if rows is None:
            available = await uow.repo.available_of(t.source_node, [x.material_code for x in lines])
            short = [s for s in shortfall(lines, available) if s.short]
            if not short:
                raise InventoryError(f"stock at node {t.source_node} changed while shipping; try again")
            raise Refused(
                f"cannot ship transfer {t.transfer_id}: not enough available at node {t.source_node}: "
                + "; ".join(f"{s.material_code} needs {s.requested}, available {s.available}" for s in short),
                transfer_id=t.transfer_id,
                node_code=t.source_node,
                short=[
                    {"material_code": s.material_code, "requested": s.requested, "available": s.available}
                    for s in short
                ],
            )
        await uow.repo.add_in_transit(t.target_node, lines, now)
        changes = StockChanges()
        for row, line in zip(rows, lines, strict=True):
            changes.stock(row, "transfer-out", t.transfer_id, -line.qty, 0, None)
        shipped = replace(t, status=S.SHIPPED.value, shipped_at=now, updated_at=now)
        await uow.repo.save_transfer(shipped)
        changes.publish(uow)
    log.info("transfer shipped", transfer_id=transfer_id, lines=len(lines))
    return TransferResult(shipped, created=True)


async def receive(uow: Uow, transfer_id: str, received: list[tuple[str, int]]) -> TransferResult:
    """Book what arrived at the target; what did not is a loss. The same receipt again answers as it is."""
    now = utcnow()
    async with uow:
        t = await _locked(uow, transfer_id)
        if t.status == S.RECEIVED:
            if sorted(received) != sorted((x.material_code, x.received or 0) for x in t.lines):
                raise IdempotencyConflict(
                    f"transfer {transfer_id} was already received with other quantities"
                )
            return TransferResult(t, created=False)
        if t.status != S.SHIPPED:
            raise _wrong_state(t, "received", "a shipped")
        raise_problems(check_received({x.material_code: x.qty for x in t.lines}, received))
        got = dict(received)
        for x in t.lines:
            if await uow.repo.take_in_transit(t.target_node, x.material_code, x.qty, now) is None:
                raise InventoryError(
                    f"in-transit of {x.material_code} to node {t.target_node} is less than "
                    f"transfer {transfer_id} shipped: cannot receive it"
                )
        booked = [
            (x.material_code, got[x.material_code], 1 if got[x.material_code] == x.qty else 2)
            for x in t.lines
        ]
        rows = await uow.repo.receive_counted(t.target_node, booked, now)
        changes = StockChanges()
        for row, x in zip(rows, t.lines, strict=True):
            lost = x.qty - got[x.material_code]
            if lost:  # the shipment booked in, then the loss out (the UPDATE bumped seq by 2)
                before = replace(row, on_hand=row.on_hand + lost, seq=row.seq - 1)
                changes.stock(before, "transfer-in", transfer_id, x.qty, 0, None)
                changes.stock(row, "transfer-loss", transfer_id, -lost, 0, None)
            else:
                changes.stock(row, "transfer-in", transfer_id, x.qty, 0, None)
        lines = [replace(x, received=got[x.material_code]) for x in t.lines]
        done = replace(t, status=S.RECEIVED.value, lines=lines, received_at=now, updated_at=now)
        await uow.repo.save_transfer(done)
        changes.publish(uow)
    log.info("transfer received", transfer_id=transfer_id, lost=sum(x.lost or 0 for x in lines))
    return TransferResult(done, created=True)


async def cancel(uow: Uow, transfer_id: str) -> TransferResult:
    """Only before it ships; cancelling a cancelled transfer answers it as it is."""
    now = utcnow()
    async with uow:
        t = await _locked(uow, transfer_id)
        if t.status == S.CANCELLED:
            return TransferResult(t, created=False)
        if t.status != S.CREATED:
            raise _wrong_state(t, "cancelled", "a created (not yet shipped)")
        done = replace(t, status=S.CANCELLED.value, cancelled_at=now, updated_at=now)
        await uow.repo.save_transfer(done)
    log.info("transfer cancelled", transfer_id=transfer_id)
    return TransferResult(done, created=True)


async def get_transfer(uow: Uow, transfer_id: str) -> TransferRow | None:
    async with uow:
        return await uow.repo.get_transfer(transfer_id)


async def list_transfers(
    uow: Uow,
    *,
    status: str | None,
    node: str | None,
    source: str | None,
    target: str | None,
    limit: int,
    offset: int,
) -> tuple[list[TransferRow], int]:
    async with uow:
        return await uow.repo.list_transfers(
            status=status, node=node, source=source, target=target, limit=limit, offset=offset
        )


async def list_in_transit(
    uow: Uow, *, node: str | None, material: str | None, limit: int, offset: int
) -> tuple[list[TransitQty], int]:
    async with uow:
        return await uow.repo.list_in_transit(node=node, material=material, limit=limit, offset=offset)
