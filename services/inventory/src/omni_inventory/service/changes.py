"""What one unit of work changed in stock, gathered so that it is written once.

A use case records every change of a stock row here (`stock(...)`); at the end of its block it calls
`publish(uow)`, which hands the ledger rows to the unit of work as ONE collected write (`uow.defer`: a batch
of 500 reservations costs one insert) and stages `inventory.stock-changed` COALESCED per stock row: one
event per (node, material) carrying the row's last state and `seq` (the `movement` of its last change). Seq
still grows with every change, so a reader keeps the highest seq it saw and misses nothing it needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from omni_chassis.uow import UnitOfWork
from omni_contracts import Envelope
from omni_contracts.events.inventory import StockChangedV3, StockChangedV4, StockChangedV5

from ..records import StockRow, movement_row
from ..store import Repository

Uow = UnitOfWork[Repository]
Cause = Envelope[Any] | None
# published as the oldest version that carries them: v3 readers keep reading every other movement
V4_MOVEMENTS = {"store-sale", "store-return"}
V5_MOVEMENTS = {"return-restock"}  # an after-sales return restocked at its node (service/returns.py)


@dataclass
class StockChanges:
    movements: list[dict[str, Any]] = field(default_factory=list)
    changed: dict[tuple[str, str], tuple[StockRow, str, Cause]] = field(default_factory=dict)

    def stock(
        self, row: StockRow, kind: str, reference: str, d_on_hand: int, d_reserved: int, cause: Cause
    ) -> None:
        """A change to a stock row: its ledger row, and the row's state for the stock-changed event."""
        self.movements.append(movement_row(row, kind, reference, d_on_hand, d_reserved))
        key = (row.node_code, row.material_code)
        self.changed.pop(key, None)  # re-insert: the dict keeps the order of last changes
        self.changed[key] = (row, kind, cause)

    def publish(self, uow: Uow) -> None:
        """Hand the ledger rows and the coalesced events to the unit of work (inside its block)."""
        rows, self.movements = self.movements, []
        if rows:
            uow.defer(lambda: uow.repo.add_movements(rows))
        for row, kind, cause in self.changed.values():
            movement = kind
            model = (StockChangedV5 if movement in V5_MOVEMENTS
                     else StockChangedV4 if movement in V4_MOVEMENTS else StockChangedV3)  # fmt: skip
            data = model(
                node_code=row.node_code,
                material_code=row.material_code,
                on_hand=row.on_hand,
                reserved=row.reserved,
                frozen=row.frozen,
                available=row.available,
                movement=movement,  # type: ignore[arg-type]
                seq=row.seq,
                changed_at=row.updated_at,
            )
            uow.emit(data, key=f"{row.node_code}:{row.material_code}", cause=cause)
        self.changed = {}
