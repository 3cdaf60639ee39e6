"""Plain values of quality states, counts, transfers and in-transit (what store_physical reads and writes)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

# Every kind of ledger row (records.MOVEMENTS), for the API's filter.
MovementKind = Literal[
    "receipt", "adjustment", "reservation", "release", "shipment", "freeze", "unfreeze",
    "quality", "count", "transfer-out", "transfer-in", "transfer-loss", "store-sale", "store-return",
    "return-restock",
]  # fmt: skip


@dataclass(frozen=True)
class QualityQty:
    """Non-good stock of one material at one node in one state (defective or quarantined)."""

    node_code: str
    material_code: str
    state: str
    qty: int
    seq: int
    updated_at: datetime


@dataclass(frozen=True)
class TransitQty:
    """Shipped to `node_code` and not yet received there."""

    node_code: str
    material_code: str
    qty: int
    seq: int
    updated_at: datetime


@dataclass(frozen=True)
class QualityMoveRow:
    move_id: str
    node_code: str
    material_code: str
    qty: int
    from_state: str
    to_state: str
    reason: str
    created_at: datetime


@dataclass(frozen=True)
class CountedLine:
    material_code: str
    state: str
    expected: int  # what the books said when counted
    counted: int

    @property
    def variance(self) -> int:
        return self.counted - self.expected


@dataclass(frozen=True)
class CountRow:
    count_id: str
    node_code: str
    lines: list[CountedLine]
    note: str
    created_at: datetime


@dataclass(frozen=True)
class TransferLine:
    material_code: str
    qty: int
    received: int | None = None  # set when the transfer is received
    # `lost` = qty - received, once received

    @property
    def lost(self) -> int | None:
        return None if self.received is None else self.qty - self.received


@dataclass(frozen=True)
class TransferRow:
    transfer_id: str
    source_node: str
    target_node: str
    status: str
    lines: list[TransferLine]
    note: str
    created_at: datetime
    updated_at: datetime
    shipped_at: datetime | None = None
    received_at: datetime | None = None
    cancelled_at: datetime | None = None


def counted_json(lines: list[CountedLine]) -> list[dict[str, Any]]:
    return [
        {
            "material_code": x.material_code,
            "state": x.state,
            "expected": x.expected,
            "counted": x.counted,
            "variance": x.variance,
        }
        for x in lines
    ]


def counted_of(raw: Any) -> list[CountedLine]:
    return [CountedLine(x["material_code"], x["state"], x["expected"], x["counted"]) for x in raw]


def transfer_lines_json(lines: list[TransferLine]) -> list[dict[str, Any]]:
    return [
        {"material_code": x.material_code, "qty": x.qty, "received": x.received, "lost": x.lost}
        for x in lines
    ]


def transfer_lines_of(raw: Any) -> list[TransferLine]:
    return [TransferLine(x["material_code"], x["qty"], x.get("received")) for x in raw]
