"""An in-memory inventory repository with the SQL one's semantics, for use-case tests without I/O.

Each conditional statement of `store.Repository` is emulated as one step on the in-memory rows (the check
and the change together, as the UPDATE ... WHERE does); `reserve_all` changes every line or none (the
savepoint). `begin`/`commit`/`rollback` (called by FakeUnitOfWork) snapshot and restore everything, so a use
case that fails leaves nothing half-applied, as a rolled-back transaction would.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from omni_inventory.domain.model import Line, ReservationStatus, ShortLine
from omni_inventory.records import AdjustmentRow, FreezeRow, ReceiptRow, ReservationRow, StockRow


class FakeRepository:
    def __init__(self) -> None:
        self.stock: dict[tuple[str, str], StockRow] = {}
        self.movements: list[dict[str, Any]] = []
        self.reservations: dict[str, ReservationRow] = {}
        self.receipts: dict[str, ReceiptRow] = {}
        self.adjustments: dict[str, AdjustmentRow] = {}
        self.cancelled: set[str] = set()
        self.freezes: dict[str, FreezeRow] = {}
        self.locked: list[list[tuple[str, str]]] = []
        self._snapshot: dict[str, Any] | None = None

    # -- transaction (FakeUnitOfWork calls these) ----------------------------------------------------------
    _STATE = ("stock", "movements", "reservations", "receipts", "adjustments", "cancelled", "freezes")

    def begin(self) -> None:
        self._snapshot = {k: copy.deepcopy(getattr(self, k)) for k in self._STATE}

    def commit(self) -> None:
        self._snapshot = None

    def rollback(self) -> None:
        assert self._snapshot is not None
        for k, v in self._snapshot.items():
            setattr(self, k, v)
        self._snapshot = None

    # -- stock --------------------------------------------------------------------------------------------
    def _bump(self, row: StockRow, at: datetime, **change: int) -> StockRow:
        new = replace(row, **change, seq=row.seq + 1, updated_at=at)
        assert new.level.problems() == [], new  # the CHECK constraints
        self.stock[(row.node_code, row.material_code)] = new
        return new

    async def lock_stock(self, pairs: set[tuple[str, str]]) -> None:
        self.locked.append(sorted(pairs))

    async def try_reserve(self, node: str, material: str, qty: int, at: datetime) -> StockRow | None:
        row = self.stock.get((node, material))
        if row is None or row.available < qty:
            return None
        return self._bump(row, at, reserved=row.reserved + qty)

    async def reserve_all(self, node: str, lines: Sequence[Line], at: datetime) -> list[StockRow] | None:
        before = dict(self.stock)
        rows = []
        for line in lines:
            row = await self.try_reserve(node, line.material_code, line.qty, at)
            if row is None:
                self.stock = before  # the savepoint's rollback
                return None
            rows.append(row)
        return rows

    async def take_reserved(
        self, node: str, material: str, qty: int, *, ship: bool, at: datetime
    ) -> StockRow | None:
        row = self.stock.get((node, material))
        if row is None or row.reserved < qty:
            return None
        return self._bump(row, at, reserved=row.reserved - qty, on_hand=row.on_hand - (qty if ship else 0))

    async def receive(self, node: str, lines: Sequence[Line], at: datetime) -> list[StockRow]:
        out = []
        for x in lines:
            row = self.stock.get((node, x.material_code))
            if row is None:
                row = StockRow(node, x.material_code, x.qty, 0, 0, 1, at)
                self.stock[(node, x.material_code)] = row
            else:
                row = self._bump(row, at, on_hand=row.on_hand + x.qty)
            out.append(row)
        return sorted(out, key=lambda r: r.material_code)

    async def adjust(self, node: str, material: str, delta: int, at: datetime) -> StockRow | None:
        if delta > 0:
            return (await self.receive(node, [Line(material, delta)], at))[0]
        row = self.stock.get((node, material))
        if row is None or row.on_hand + delta < row.reserved + row.frozen:
            return None
        return self._bump(row, at, on_hand=row.on_hand + delta)

    async def get_stock(self, node: str, material: str) -> StockRow | None:
        return self.stock.get((node, material))

    async def available_of(self, node: str, materials: Sequence[str]) -> dict[str, int]:
        return {m: self.stock[(node, m)].available for m in materials if (node, m) in self.stock}

    async def list_stock(
        self, *, node: str | None, material: str | None, limit: int, offset: int
    ) -> tuple[list[StockRow], int]:
        found = [
            r
            for k, r in sorted(self.stock.items())
            if (node is None or k[0] == node) and (material is None or k[1] == material)
        ]
        return found[offset : offset + limit], len(found)

    # -- movements ----------------------------------------------------------------------------------------
    async def add_movements(self, rows: Sequence[dict[str, Any]]) -> None:
        for r in rows:
            self.movements.append({"id": len(self.movements) + 1, **r})

    async def list_movements(
        self,
        *,
        node: str | None,
        material: str | None,
        reference: str | None,
        kind: str | None = None,
        limit: int,
        offset: int,
    ) -> tuple[list[dict[str, Any]], int]:
        want = {"node_code": node, "material_code": material, "reference": reference, "kind": kind}
        found = [m for m in reversed(self.movements) if all(v is None or m[k] == v for k, v in want.items())]
        return found[offset : offset + limit], len(found)

    async def stock_for_update(self, pairs: set[tuple[str, str]]) -> dict[tuple[str, str], StockRow]:
        self.locked.append(sorted(pairs))
        return {p: self.stock[p] for p in pairs if p in self.stock}

    async def reserve_summed(
        self, totals: dict[tuple[str, str], tuple[int, int]], at: datetime, *, expected: dict[Any, int]
    ) -> int:
        updated = 0
        for key, (qty, count) in totals.items():
            row = self.stock.get(key)
            if row is None or row.available < qty or row.seq + count != expected[key]:
                continue
            new = replace(row, reserved=row.reserved + qty, seq=row.seq + count, updated_at=at)
            assert new.level.problems() == [], new  # the CHECK constraints
            self.stock[key] = new
            updated += 1
        return updated

    # -- freezes ------------------------------------------------------------------------------------------
    async def freeze_stock(self, node: str, material: str, qty: int, at: datetime) -> StockRow | None:
        row = self.stock.get((node, material))
        if row is None or row.available < qty:
            return None
        return self._bump(row, at, frozen=row.frozen + qty)

    async def unfreeze_stock(self, node: str, material: str, qty: int, at: datetime) -> StockRow | None:
        row = self.stock.get((node, material))
        if row is None or row.frozen < qty:
            return None
        return self._bump(row, at, frozen=row.frozen - qty)

    async def claim_freeze(self, f: FreezeRow) -> bool:
        if f.freeze_id in self.freezes:
            return False
        self.freezes[f.freeze_id] = f
        return True

    async def get_freeze(self, freeze_id: str, *, for_update: bool = False) -> FreezeRow | None:
        return self.freezes.get(freeze_id)

    async def mark_released(self, freeze_id: str, reason: str, at: datetime) -> None:
        f = self.freezes[freeze_id]
        if f.released_at is None:
            self.freezes[freeze_id] = replace(f, released_at=at, release_reason=reason)

    async def list_freezes(
        self, *, node: str | None, material: str | None, active: bool | None, limit: int, offset: int
    ) -> tuple[list[FreezeRow], int]:
        newest = sorted(self.freezes.values(), key=lambda f: (f.created_at, f.freeze_id), reverse=True)
        found = [
            f
            for f in newest
            if (node is None or f.node_code == node)
            and (material is None or f.material_code == material)
            and (active is None or f.active == active)
        ]
        return found[offset : offset + limit], len(found)

    # -- reservations -------------------------------------------------------------------------------------
    async def claim_reservations(
        self, items: Sequence[tuple[str, str, str, Sequence[Line]]], at: datetime
    ) -> set[str]:
        new = set()
        for rid, order_id, node, lines in items:
            if await self.claim_reservation(rid, order_id, node, lines, at):
                new.add(rid)
        return new

    async def cancelled_among(self, order_ids: set[str]) -> set[str]:
        return order_ids & self.cancelled

    async def claim_reservation(
        self, reservation_id: str, order_id: str, node: str, lines: Sequence[Line], at: datetime
    ) -> bool:
        if reservation_id in self.reservations:
            return False
        self.reservations[reservation_id] = ReservationRow(
            reservation_id, order_id, node, ReservationStatus.RESERVED, list(lines), None, None, at, at
        )
        return True

    async def mark_refused(
        self, reservation_id: str, shortfall: Sequence[ShortLine], reason: str, at: datetime
    ) -> None:
        res = self.reservations[reservation_id]
        self.reservations[reservation_id] = replace(
            res, status=ReservationStatus.REFUSED, shortfall=list(shortfall), reason=reason, updated_at=at
        )

    async def move_reservation(
        self, reservation_id: str, to: ReservationStatus, at: datetime
    ) -> ReservationRow | None:
        res = self.reservations.get(reservation_id)
        if res is None or res.status is not ReservationStatus.RESERVED:
            return None
        self.reservations[reservation_id] = replace(res, status=to, updated_at=at)
        return self.reservations[reservation_id]

    async def release_order(self, order_id: str, at: datetime) -> list[ReservationRow]:
        out = []
        for rid, res in sorted(self.reservations.items()):
            if res.order_id == order_id and res.status is ReservationStatus.RESERVED:
                self.reservations[rid] = replace(res, status=ReservationStatus.RELEASED, updated_at=at)
                out.append(self.reservations[rid])
        return out

    async def held_lines_of_orders(self, order_ids: Sequence[str]) -> set[tuple[str, str]]:
        return {
            (r.node_code, x.material_code)
            for r in self.reservations.values()
            if r.order_id in order_ids and r.status is ReservationStatus.RESERVED
            for x in r.lines
        }

    async def get_reservation(self, reservation_id: str) -> ReservationRow | None:
        return self.reservations.get(reservation_id)

    async def list_reservations(
        self,
        *,
        order_id: str | None,
        node: str | None,
        status: ReservationStatus | None,
        limit: int,
        offset: int,
    ) -> tuple[list[ReservationRow], int]:
        found = [
            r
            for r in sorted(self.reservations.values(), key=lambda r: (r.created_at, r.reservation_id))
            if (order_id is None or r.order_id == order_id)
            and (node is None or r.node_code == node)
            and (status is None or r.status is status)
        ]
        return found[offset : offset + limit], len(found)

    # -- receipts, adjustments, cancellations -------------------------------------------------------------
    async def claim_receipt(
        self, receipt_id: str, node: str, lines: Sequence[Line], note: str, at: datetime
    ) -> bool:
        if receipt_id in self.receipts:
            return False
        self.receipts[receipt_id] = ReceiptRow(receipt_id, node, list(lines), note, at)
        return True

    async def get_receipt(self, receipt_id: str) -> ReceiptRow | None:
        return self.receipts.get(receipt_id)

    async def claim_adjustment(
        self, adjustment_id: str, node: str, material: str, delta: int, reason: str, at: datetime
    ) -> bool:
        if adjustment_id in self.adjustments:
            return False
        self.adjustments[adjustment_id] = AdjustmentRow(adjustment_id, node, material, delta, reason, at)
        return True

    async def get_adjustment(self, adjustment_id: str) -> AdjustmentRow | None:
        return self.adjustments.get(adjustment_id)

    async def mark_cancelled(self, order_id: str, at: datetime) -> None:
        self.cancelled.add(order_id)

    async def is_cancelled(self, order_id: str) -> bool:
        return order_id in self.cancelled
