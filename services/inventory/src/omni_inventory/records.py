"""What the repository reads and writes, as plain values (no SQL): stock rows, reservations, idempotency
records, ledger rows. The SQL repository (`store.Repository`) and the tests' in-memory one both speak these.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .domain.model import Line, ReservationStatus, ShortLine, StockLevel

MOVEMENTS = ("receipt", "adjustment", "reservation", "release", "shipment", "freeze", "unfreeze",
             "quality", "count", "transfer-out", "transfer-in", "transfer-loss",
             "store-sale", "store-return", "return-restock")  # fmt: skip


@dataclass(frozen=True)
class StockRow:
    node_code: str
    material_code: str
    on_hand: int
    reserved: int
    frozen: int
    seq: int
    updated_at: datetime

    @property
    def level(self) -> StockLevel:
        return StockLevel(self.on_hand, self.reserved, self.frozen)

    @property
    def available(self) -> int:
        return self.level.available


@dataclass(frozen=True)
class ReservationRow:
    reservation_id: str
    order_id: str
    node_code: str
    status: ReservationStatus
    lines: list[Line]
    shortfall: list[ShortLine] | None
    reason: str | None
    created_at: datetime
    updated_at: datetime
    expires_at: datetime | None = None  # an unpaid reservation's TTL (service/holds.py)
    confirmed_at: datetime | None = None  # when payment confirmed it


@dataclass(frozen=True)
class ReceiptRow:
    receipt_id: str
    node_code: str
    lines: list[Line]
    note: str
    created_at: datetime


@dataclass(frozen=True)
class FreezeRow:
    freeze_id: str
    node_code: str
    material_code: str
    qty: int
    reason: str
    created_at: datetime
    released_at: datetime | None = None
    release_reason: str | None = None

    @property
    def active(self) -> bool:
        return self.released_at is None


@dataclass(frozen=True)
class AdjustmentRow:
    adjustment_id: str
    node_code: str
    material_code: str
    delta: int
    reason: str
    created_at: datetime


def movement_row(row: StockRow, kind: str, reference: str, d_on_hand: int, d_reserved: int) -> dict[str, Any]:
    """The ledger row for one change, with the stock row's state after it."""
    assert kind in MOVEMENTS, kind
    return {
        "node_code": row.node_code,
        "material_code": row.material_code,
        "kind": kind,
        "delta_on_hand": d_on_hand,
        "delta_reserved": d_reserved,
        "on_hand_after": row.on_hand,
        "reserved_after": row.reserved,
        "frozen_after": row.frozen,
        "seq": row.seq,
        "reference": reference,
        "at": row.updated_at,
    }


def lines_json(lines: Any) -> list[dict[str, Any]]:
    return [{"material_code": x.material_code, "qty": x.qty} for x in lines]


def lines_of(raw: Any) -> list[Line]:
    return [Line(x["material_code"], x["qty"]) for x in raw]


def reservation_of(row: Any) -> ReservationRow:
    """A `reservations` row as the repository returns it."""
    return ReservationRow(
        reservation_id=row.reservation_id,
        order_id=row.order_id,
        node_code=row.node_code,
        status=ReservationStatus(row.status),
        lines=[Line(x["material_code"], x["qty"]) for x in row.lines],
        shortfall=None if row.shortfall is None else [ShortLine(**x) for x in row.shortfall],
        reason=row.reason,
        created_at=row.created_at,
        updated_at=row.updated_at,
        expires_at=row.expires_at,
        confirmed_at=row.confirmed_at,
    )
