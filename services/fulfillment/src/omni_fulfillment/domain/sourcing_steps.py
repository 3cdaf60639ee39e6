"""What one order's sourcing holds and what each of its steps decided (order_sourcing.py makes them; the
service turns them into events and rows). Pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from .explain import Decision
from .sourcing import Line, Shortfall


class SourcingStatus(StrEnum):
    SOURCING = "sourcing"
    ALLOCATED = "allocated"
    UNFULFILLABLE = "unfulfillable"
    CANCELLED = "cancelled"
    FULFILLED = "fulfilled"


class ReservationStatus(StrEnum):
    PENDING = "pending"
    RESERVED = "reserved"
    REFUSED = "refused"
    ABANDONED = "abandoned"  # the order was given up or cancelled: inventory releases what it holds


def reservation_id(order_id: str, attempt: int, node_code: str, group: str | None = None) -> str:
    """Unique per order, attempt, node and group (a node appears at most once in one group's plan of an
    attempt). The main group's id has no suffix: `<order>:<attempt>:<node>`; a named group's ends in
    `:<group>`. Nothing parses it: the group is kept on the reservation and its task."""
    base = f"{order_id}:{attempt}:{node_code}"
    return f"{base}:{group}" if group else base


@dataclass
class Reservation:
    reservation_id: str
    node_code: str
    attempt: int
    lines: tuple[Line, ...]
    status: ReservationStatus = ReservationStatus.PENDING
    group: str | None = None  # split by type: the group of its lines (None: the order's main group)


# -- what a step decided (the service turns these into events and rows) ------------------------------------
@dataclass(frozen=True)
class Requested:
    reservations: tuple[Reservation, ...]
    decisions: tuple[Decision, ...] = field(default=(), compare=False)  # why, one per group (explain.py)

    @property
    def decision(self) -> Decision | None:
        """The first group's decision (the only one of an order with one group)."""
        return self.decisions[0] if self.decisions else None


@dataclass(frozen=True)
class Waiting:
    pending: int


@dataclass(frozen=True)
class Allocated:
    reservations: tuple[Reservation, ...]


@dataclass(frozen=True)
class GaveUp:
    reason: str
    shortfall: tuple[Shortfall, ...]
    attempts: int
    decision: Decision | None = field(default=None, compare=False)  # why each node could not serve


@dataclass(frozen=True)
class Ignored:
    why: str


@dataclass(frozen=True)
class Cancelled:
    abandoned: tuple[Reservation, ...]


@dataclass(frozen=True)
class NothingToShip:
    """No line of the order ships (every one is virtual or a service): fulfilled at once, nothing sourced."""


Outcome = Requested | Waiting | Allocated | GaveUp | Ignored | Cancelled | NothingToShip

NOTHING_TO_SHIP = "nothing to ship: every line is fulfilled without shipping"
