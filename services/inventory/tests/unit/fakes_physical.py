"""The in-memory repository with quality states, counts, transfers and in-transit (store_quality.py and
store_transfers.py emulated: each conditional statement is one step, check and change together)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from inventory_fakes import FakeRepository

from omni_inventory.domain.model import Line
from omni_inventory.records import StockRow
from omni_inventory.records_physical import (
    CountedLine,
    CountRow,
    QualityMoveRow,
    QualityQty,
    TransferRow,
    TransitQty,
)


class PhysicalFakeRepository(FakeRepository):
    _STATE = (*FakeRepository._STATE, "quality", "moves", "counts", "transfers", "transit")

    def __init__(self) -> None:
        super().__init__()
        self.quality: dict[tuple[str, str, str], QualityQty] = {}
        self.moves: dict[str, QualityMoveRow] = {}
        self.counts: dict[str, CountRow] = {}
        self.transfers: dict[str, TransferRow] = {}
        self.transit: dict[tuple[str, str], TransitQty] = {}

    # -- good stock ---------------------------------------------------------------------------------------
    async def take_good(self, node: str, material: str, qty: int, at: datetime) -> StockRow | None:
        row = self.stock.get((node, material))
        if row is None or row.available < qty:
            return None
        return self._bump(row, at, on_hand=row.on_hand - qty)

    async def set_on_hand(self, node: str, material: str, counted: int, at: datetime) -> StockRow | None:
        row = self.stock.get((node, material))
        if row is None or counted < row.reserved + row.frozen:
            return None
        return self._bump(row, at, on_hand=counted)

    async def reservations_holding(self, node: str, material: str) -> list[str]:
        return sorted(
            r.reservation_id
            for r in self.reservations.values()
            if r.node_code == node
            and r.status == "reserved"
            and any(x.material_code == material for x in r.lines)
        )

    async def take_good_all(self, node: str, lines: Sequence[Line], at: datetime) -> list[StockRow] | None:
        before = dict(self.stock)
        rows = []
        for line in lines:
            row = await self.take_good(node, line.material_code, line.qty, at)
            if row is None:
                self.stock = before
                return None
            rows.append(row)
        return rows

    async def receive_counted(
        self, node: str, lines: Sequence[tuple[str, int, int]], at: datetime
    ) -> list[StockRow]:
        out = []
        for m, q, k in lines:
            row = self.stock.get((node, m))
            if row is None:
                row = StockRow(node, m, q, 0, 0, k, at)
                self.stock[(node, m)] = row
            else:
                row = self._bump(row, at, on_hand=row.on_hand + q)
                row = self.stock[(node, m)] = replace(row, seq=row.seq + k - 1)
            out.append(row)
        return sorted(out, key=lambda r: r.material_code)

    # -- non-good stock -----------------------------------------------------------------------------------
    async def add_quality(self, node: str, material: str, state: str, qty: int, at: datetime) -> QualityQty:
        old = self.quality.get((node, material, state))
        new = (
            QualityQty(node, material, state, qty, 1, at)
            if old is None
            else replace(old, qty=old.qty + qty, seq=old.seq + 1, updated_at=at)
        )
        self.quality[(node, material, state)] = new
        return new

    async def take_quality(
        self, node: str, material: str, state: str, qty: int, at: datetime
    ) -> QualityQty | None:
        old = self.quality.get((node, material, state))
        if old is None or old.qty < qty:
            return None
        new = self.quality[(node, material, state)] = replace(
            old, qty=old.qty - qty, seq=old.seq + 1, updated_at=at
        )
        return new

    async def set_quality(self, node: str, material: str, state: str, counted: int, at: datetime):
        old = self.quality.get((node, material, state))
        was = old.qty if old else 0
        new = (
            QualityQty(node, material, state, counted, 1, at)
            if old is None
            else replace(old, qty=counted, seq=old.seq + 1, updated_at=at)
        )
        self.quality[(node, material, state)] = new
        return was, new

    async def quality_of(self, node: str, material: str) -> dict[str, int]:
        return {s: q.qty for (n, m, s), q in self.quality.items() if (n, m) == (node, material)}

    async def quality_for_update(self, node: str, materials: Sequence[str]) -> dict[tuple[str, str], int]:
        return {(m, s): q.qty for (n, m, s), q in self.quality.items() if n == node and m in materials}

    async def list_quality(self, *, node, material, state, limit, offset) -> tuple[list[QualityQty], int]:
        found = [
            q
            for k, q in sorted(self.quality.items())
            if q.qty > 0 and all(v is None or k[i] == v for i, v in enumerate((node, material, state)))
        ]
        return found[offset : offset + limit], len(found)

    async def claim_quality_move(self, m: QualityMoveRow) -> bool:
        if m.move_id in self.moves:
            return False
        self.moves[m.move_id] = m
        return True

    async def get_quality_move(self, move_id: str) -> QualityMoveRow | None:
        return self.moves.get(move_id)

    async def list_quality_moves(self, *, node, material, limit, offset) -> tuple[list[QualityMoveRow], int]:
        found = [
            m
            for m in sorted(self.moves.values(), key=lambda m: (m.created_at, m.move_id), reverse=True)
            if (node is None or m.node_code == node) and (material is None or m.material_code == material)
        ]
        return found[offset : offset + limit], len(found)

    # -- counts -------------------------------------------------------------------------------------------
    async def claim_count(self, count_id: str, node: str, note: str, at: datetime) -> bool:
        if count_id in self.counts:
            return False
        self.counts[count_id] = CountRow(count_id, node, [], note, at)
        return True

    async def record_count_lines(self, count_id: str, lines: list[CountedLine]) -> None:
        self.counts[count_id] = replace(self.counts[count_id], lines=list(lines))

    async def get_count(self, count_id: str) -> CountRow | None:
        return self.counts.get(count_id)

    async def list_counts(self, *, node, limit, offset) -> tuple[list[CountRow], int]:
        found = [
            c
            for c in sorted(self.counts.values(), key=lambda c: (c.created_at, c.count_id), reverse=True)
            if node is None or c.node_code == node
        ]
        return found[offset : offset + limit], len(found)

    # -- transfers and in-transit -------------------------------------------------------------------------
    async def add_in_transit(self, node: str, lines: Sequence[Line], at: datetime) -> list[TransitQty]:
        out = []
        for x in lines:
            old = self.transit.get((node, x.material_code))
            new = (
                TransitQty(node, x.material_code, x.qty, 1, at)
                if old is None
                else replace(old, qty=old.qty + x.qty, seq=old.seq + 1, updated_at=at)
            )
            self.transit[(node, x.material_code)] = new
            out.append(new)
        return out

    async def take_in_transit(self, node: str, material: str, qty: int, at: datetime) -> TransitQty | None:
        old = self.transit.get((node, material))
        if old is None or old.qty < qty:
            return None
        new = self.transit[(node, material)] = replace(old, qty=old.qty - qty, seq=old.seq + 1, updated_at=at)
        return new

    async def in_transit_of(self, node: str, material: str) -> int:
        found = self.transit.get((node, material))
        return found.qty if found else 0

    async def list_in_transit(self, *, node, material, limit, offset) -> tuple[list[TransitQty], int]:
        found = [
            t
            for k, t in sorted(self.transit.items())
            if t.qty > 0 and (node is None or k[0] == node) and (material is None or k[1] == material)
        ]
        return found[offset : offset + limit], len(found)

    async def claim_transfer(self, t: TransferRow) -> bool:
        if t.transfer_id in self.transfers:
            return False
        self.transfers[t.transfer_id] = t
        return True

    async def get_transfer(self, transfer_id: str, *, for_update: bool = False) -> TransferRow | None:
        return self.transfers.get(transfer_id)

    async def save_transfer(self, t: TransferRow) -> None:
        self.transfers[t.transfer_id] = t

    async def list_transfers(
        self, *, status, node, source, target, limit, offset
    ) -> tuple[list[TransferRow], int]:
        found = [
            t
            for t in sorted(
                self.transfers.values(), key=lambda t: (t.created_at, t.transfer_id), reverse=True
            )
            if (status is None or t.status == status)
            and (node is None or node in (t.source_node, t.target_node))
            and (source is None or t.source_node == source)
            and (target is None or t.target_node == target)
        ]
        return found[offset : offset + limit], len(found)
