"""One order's way from "accepted" to "allocated" (or "unfulfillable"): plan, reserve, re-plan on refusal.

The current plan is the set of reservations that are pending or reserved. A refusal drops that node's
reservation, excludes the node and re-plans only its lines (what other nodes hold is kept), with a new
attempt number, at most `max_attempts` attempts in all. When no reservation is pending any more, the
order is allocated: one task per reserved node.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from .sourcing import Line, Plan, Point, Shortfall, Unfulfillable, source
from .stock_view import StockView


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


def reservation_id(order_id: str, attempt: int, node_code: str) -> str:
    """Unique per order, attempt and node (a node appears at most once in one attempt's plan)."""
    return f"{order_id}:{attempt}:{node_code}"


@dataclass
class Reservation:
    reservation_id: str
    node_code: str
    attempt: int
    lines: tuple[Line, ...]
    status: ReservationStatus = ReservationStatus.PENDING


# -- what a step decided (the service turns these into events and rows) ------------------------------------
@dataclass(frozen=True)
class Requested:
    reservations: tuple[Reservation, ...]


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


@dataclass(frozen=True)
class Ignored:
    why: str


@dataclass(frozen=True)
class Cancelled:
    abandoned: tuple[Reservation, ...]


Outcome = Requested | Waiting | Allocated | GaveUp | Ignored | Cancelled


@dataclass
class OrderSourcing:
    order_id: str
    lines: tuple[Line, ...]
    destination: Point | None = None
    pickup_node: str | None = None
    attempt: int = 1
    excluded: list[str] = field(default_factory=list)
    status: SourcingStatus = SourcingStatus.SOURCING
    reservations: list[Reservation] = field(default_factory=list)
    reason: str = ""

    @property
    def is_pickup(self) -> bool:
        return self.pickup_node is not None

    # -- steps --------------------------------------------------------------------------------------------
    @classmethod
    def start(
        cls,
        order_id: str,
        lines: Sequence[Line],
        view: StockView,
        *,
        destination: Point | None = None,
        store_pickup: bool = False,
        pickup_node: str | None = None,
    ) -> tuple[OrderSourcing, Requested | GaveUp]:
        """Plan a new order. A store pickup goes to its pickup node only."""
        order = cls(order_id, tuple(lines), destination, pickup_node if store_pickup else None)
        if store_pickup and not pickup_node:
            return order, order._give_up("a store pickup order needs a pickup node and has none", ())
        result = source(
            order.lines,
            view.candidates(_materials(order.lines), [order.pickup_node] if order.pickup_node else []),
            destination=destination,
            pickup_node=order.pickup_node,
        )
        if isinstance(result, Unfulfillable):
            return order, order._give_up(result.reason, result.shortfall)
        return order, order._request(result, view)

    def reserved(self, reservation_id: str) -> Outcome:
        r = self._pending(reservation_id)
        if isinstance(r, Ignored):
            return r
        r.status = ReservationStatus.RESERVED
        pending = sum(1 for x in self.reservations if x.status is ReservationStatus.PENDING)
        if pending:
            return Waiting(pending)
        self.status = SourcingStatus.ALLOCATED
        return Allocated(tuple(x for x in self.reservations if x.status is ReservationStatus.RESERVED))

    def refused(
        self,
        reservation_id: str,
        shortfall: Sequence[Shortfall],
        reason: str,
        view: StockView,
        max_attempts: int,
    ) -> Outcome:
        r = self._pending(reservation_id)
        if isinstance(r, Ignored):
            return r
        r.status = ReservationStatus.REFUSED
        for s in shortfall:
            view.set_available(r.node_code, s.material_code, s.available)
        if r.node_code not in self.excluded:
            self.excluded.append(r.node_code)
        refusal = f"node {r.node_code} refused the reservation ({reason})"
        if self.attempt >= max_attempts:
            return self._give_up(
                f"{refusal}; no attempt left ({self.attempt} of {max_attempts} used)", shortfall
            )
        held = {x.node_code for x in self.reservations if x.status in _OPEN}
        result = source(
            r.lines,
            view.candidates(_materials(r.lines), [self.pickup_node] if self.pickup_node else []),
            destination=self.destination,
            excluded=[*self.excluded, *held],
            pickup_node=self.pickup_node,
        )
        if isinstance(result, Unfulfillable):
            return self._give_up(
                f"{refusal}; re-planning its lines failed: {result.reason}", result.shortfall
            )
        self.attempt += 1
        return self._request(result, view)

    def cancel(self) -> Outcome:
        if self.status in (SourcingStatus.CANCELLED, SourcingStatus.UNFULFILLABLE, SourcingStatus.FULFILLED):
            return Ignored(f"order {self.order_id} is already {self.status.value}")
        self.status = SourcingStatus.CANCELLED
        self.reason = "the order was cancelled"
        return Cancelled(self._abandon())

    def fulfilled(self) -> None:
        if self.status is SourcingStatus.ALLOCATED:
            self.status = SourcingStatus.FULFILLED

    # -- inside ---------------------------------------------------------------------------------------------
    def _pending(self, reservation_id: str) -> Reservation | Ignored:
        r = next((x for x in self.reservations if x.reservation_id == reservation_id), None)
        if r is None:
            return Ignored(f"reservation {reservation_id} is not one of order {self.order_id}")
        if self.status is not SourcingStatus.SOURCING:
            return Ignored(
                f"order {self.order_id} is {self.status.value}: reservation {reservation_id} is late"
            )
        if r.status is not ReservationStatus.PENDING:
            return Ignored(f"reservation {reservation_id} is {r.status.value}, not pending")
        return r

    def _request(self, plan: Plan, view: StockView) -> Requested:
        new = tuple(
            Reservation(
                reservation_id(self.order_id, self.attempt, a.node_code), a.node_code, self.attempt, a.lines
            )
            for a in plan.allocations
        )
        for r in new:
            view.take(r.node_code, r.lines)
        self.reservations.extend(new)
        return Requested(new)

    def _give_up(self, reason: str, shortfall: Sequence[Shortfall]) -> GaveUp:
        self.status = SourcingStatus.UNFULFILLABLE
        self.reason = reason
        self._abandon()
        return GaveUp(reason, tuple(shortfall), self.attempt)

    def _abandon(self) -> tuple[Reservation, ...]:
        gone = tuple(x for x in self.reservations if x.status in _OPEN)
        for x in gone:
            x.status = ReservationStatus.ABANDONED
        return gone


_OPEN = (ReservationStatus.PENDING, ReservationStatus.RESERVED)


def _materials(lines: Sequence[Line]) -> list[str]:
    return [x.material_code for x in lines]
