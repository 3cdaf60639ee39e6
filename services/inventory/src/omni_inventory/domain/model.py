"""Inventory rules, pure: stock levels, request lines, shortfalls, adjustments, reservation states.

No I/O and no framework here. The database enforces the same invariants with CHECK constraints; the
functions below are what the service uses to decide and to explain a refusal in words.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

MAX_QTY = 1_000_000_000  # one line, one receipt or one adjustment never moves more than this


class InventoryError(Exception):
    """A request the rules refuse. The message is a sentence an operator can act on."""


class InvalidRequest(InventoryError):
    """The request itself is malformed (a 422 at the edge)."""


class IdempotencyConflict(InventoryError):
    """An idempotency key came back with different content (a 409 at the edge)."""


class ReservationStateError(InventoryError):
    """A reservation is unknown or not in a state that allows the operation."""


@dataclass(frozen=True)
class StockLevel:
    on_hand: int
    reserved: int = 0
    frozen: int = 0

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved - self.frozen

    def problems(self) -> list[str]:
        """What breaks the invariants (empty when the level is valid)."""
        out = []
        for name in ("on_hand", "reserved", "frozen"):
            if getattr(self, name) < 0:
                out.append(f"{name} is negative ({getattr(self, name)})")
        if self.reserved + self.frozen > self.on_hand:
            out.append(f"reserved {self.reserved} + frozen {self.frozen} exceed on hand {self.on_hand}")
        return out


@dataclass(frozen=True, order=True)
class Line:
    material_code: str
    qty: int


def normalize_lines(lines: Iterable[tuple[str, int]]) -> list[Line]:
    """Request lines merged per material (quantities summed) and sorted by material code.

    The sort order is the lock order of every multi-row change, so that two transactions never wait on
    each other's rows in opposite orders.
    """
    total: dict[str, int] = {}
    for material, qty in lines:
        if not material:
            raise InvalidRequest("a line has an empty material code")
        if qty <= 0:
            raise InvalidRequest(f"line {material}: quantity must be positive, got {qty}")
        total[material] = total.get(material, 0) + qty
    if not total:
        raise InvalidRequest("at least one line is required")
    return [Line(m, q) for m, q in sorted(total.items())]


def distinct_lines(lines: Iterable[tuple[str, int]]) -> list[Line]:
    """Like `normalize_lines`, but a material listed twice is an error (receipts: say what you mean)."""
    seen: set[str] = set()
    for material, _ in lines:
        if material in seen:
            raise InvalidRequest(f"material {material} appears on more than one line")
        seen.add(material)
    out = normalize_lines(lines)
    for line in out:
        if line.qty > MAX_QTY:
            raise InvalidRequest(f"line {line.material_code}: quantity {line.qty} exceeds {MAX_QTY}")
    return out


@dataclass(frozen=True)
class ShortLine:
    material_code: str
    requested: int
    available: int

    @property
    def short(self) -> bool:
        return self.available < self.requested


def shortfall(lines: Iterable[Line], available: Mapping[str, int]) -> list[ShortLine]:
    """Requested vs available for EVERY line (a material the node does not stock has 0 available)."""
    return [ShortLine(x.material_code, x.qty, max(available.get(x.material_code, 0), 0)) for x in lines]


def refusal_reason(node_code: str, lines: list[ShortLine]) -> str:
    """One sentence saying which lines were short at the node."""
    short = [x for x in lines if x.short]
    if not short:
        # The short line was released between the attempt and the re-read: say so honestly.
        return (
            f"node {node_code} could not reserve every line when asked; "
            "stock changed since and now covers the request: ask again"
        )
    parts = [f"{x.material_code} requested {x.requested}, available {x.available}" for x in short]
    return f"not enough stock at node {node_code}: " + "; ".join(parts)


class AdjustmentRefused(InventoryError):
    """An adjustment would take on hand below reserved + frozen (or below 0). Carries the numbers."""

    def __init__(self, node_code: str, material_code: str, level: StockLevel, delta: int) -> None:
        self.node_code, self.material_code, self.level, self.delta = node_code, material_code, level, delta
        super().__init__(self._sentence())

    def _sentence(self) -> str:
        lv = self.level
        return (
            f"cannot adjust {self.material_code} at node {self.node_code} by {self.delta}: on hand "
            f"{lv.on_hand} would become {lv.on_hand + self.delta}, below reserved {lv.reserved} + frozen "
            f"{lv.frozen} (the largest decrease allowed is {lv.available})"
        )


class FreezeRefused(InventoryError):
    """A freeze asks for more than is available (on hand − reserved − frozen). Carries the numbers."""

    def __init__(self, node_code: str, material_code: str, level: StockLevel, qty: int) -> None:
        self.node_code, self.material_code, self.level, self.delta = node_code, material_code, level, -qty
        super().__init__(
            f"cannot freeze {qty} of {material_code} at node {node_code}: only {max(level.available, 0)} "
            f"available (on hand {level.on_hand}, reserved {level.reserved}, frozen {level.frozen})"
        )


def check_adjustment(node_code: str, material_code: str, level: StockLevel, delta: int) -> StockLevel:
    """The level after adjusting on hand by `delta`, or AdjustmentRefused."""
    if delta == 0:
        raise InvalidRequest("delta must not be 0")
    after = StockLevel(level.on_hand + delta, level.reserved, level.frozen)
    if after.problems():
        raise AdjustmentRefused(node_code, material_code, level, delta)
    return after


class ReservationStatus(StrEnum):
    RESERVED = "reserved"
    REFUSED = "refused"
    RELEASED = "released"
    CONSUMED = "consumed"


# Only a held reservation moves on; refused, released and consumed are final.
_NEXT: dict[ReservationStatus, set[ReservationStatus]] = {
    ReservationStatus.RESERVED: {ReservationStatus.RELEASED, ReservationStatus.CONSUMED},
    ReservationStatus.REFUSED: set(),
    ReservationStatus.RELEASED: set(),
    ReservationStatus.CONSUMED: set(),
}


def can_move(current: ReservationStatus, to: ReservationStatus) -> bool:
    return to in _NEXT[current]


def consume_refusal(reservation_id: str, status: ReservationStatus | None, task_id: str) -> str:
    """Why task `task_id` cannot consume the reservation (unknown or not held)."""
    if status is None:
        return f"task {task_id} shipped against reservation {reservation_id}, which inventory does not know"
    return (
        f"task {task_id} shipped against reservation {reservation_id}, which is {status.value}, "
        "not reserved: nothing to consume"
    )


def allocate_in_order(
    requests: Sequence[tuple[str, Sequence[Line]] | None], available: Mapping[tuple[str, str], int]
) -> list[bool]:
    """Which of `requests` (node, lines), taken in arrival order, are reserved: each all-or-none against
    what the earlier ones left. `None` (a request that must not reserve) is refused. Exactly what reserving
    them one by one gives, so a batch may reserve each (node, material) once for the summed quantity (a hot
    SKU costs one row update per batch, not one per order) and never oversells."""
    left = dict(available)
    out: list[bool] = []
    for req in requests:
        if req is None:
            out.append(False)
            continue
        node, lines = req
        ok = all(left.get((node, x.material_code), 0) >= x.qty for x in lines)
        if ok:
            for x in lines:
                left[(node, x.material_code)] -= x.qty
        out.append(ok)
    return out
