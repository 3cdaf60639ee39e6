"""One order's way from "accepted" to "allocated" (or "unfulfillable"): plan, reserve, re-plan on refusal.

The current plan is the set of reservations that are pending or reserved. A refusal drops that node's
reservation, excludes the node and re-plans only its lines (what other nodes hold is kept), with a new
attempt number, at most `max_attempts` attempts in all. When no reservation is pending any more, the
order is allocated: one task per reserved node.

An order given up on (unfulfillable) is sourced again when its acceptance comes again (an operator's
retry, after new stock arrived): a new plan against the stock of the day, with a fresh budget of attempts
and no excluded node. Attempt numbers go on from the last one, so that every reservation id stays unique.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

from .explain import Decision, explain, explain_without_plan
from .lines import OrderLine
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
    decision: Decision | None = field(default=None, compare=False)  # why this plan (explain.py)


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
    order_lines: tuple[OrderLine, ...] = ()  # with their ids; empty for orders sourced before ids were kept
    first_attempt: int = 1  # the first attempt of the current sourcing (a retry starts a new one)
    accepted_event: str | None = None  # the id of the order.accepted event this sourcing started from

    @property
    def is_pickup(self) -> bool:
        return self.pickup_node is not None

    @property
    def attempts_used(self) -> int:
        """Attempts of the current sourcing (1 for its first plan)."""
        return self.attempt - self.first_attempt + 1

    @property
    def restartable(self) -> bool:
        """Given up on: a new acceptance (an operator's retry) sources it again."""
        return self.status is SourcingStatus.UNFULFILLABLE

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
        order_lines: Sequence[OrderLine] = (),
        accepted_event: str | None = None,
    ) -> tuple[OrderSourcing, Requested | GaveUp]:
        """Plan a new order. A store pickup goes to its pickup node only."""
        order = cls(
            order_id,
            tuple(lines),
            destination,
            pickup_node if store_pickup else None,
            order_lines=tuple(order_lines),
            accepted_event=accepted_event,
        )
        return order, order._plan(view, store_pickup)

    def restart(
        self,
        lines: Sequence[Line],
        view: StockView,
        *,
        destination: Point | None = None,
        store_pickup: bool = False,
        pickup_node: str | None = None,
        order_lines: Sequence[OrderLine] = (),
        accepted_event: str | None = None,
    ) -> Requested | GaveUp | Ignored:
        """Source again an order given up on, as accepted anew: the attempts and excluded nodes start afresh,
        the earlier reservations stay as they ended (refused or abandoned)."""
        if not self.restartable:
            return Ignored(
                f"order {self.order_id} is {self.status.value}: only an unfulfillable one restarts"
            )
        self.lines, self.order_lines = tuple(lines), tuple(order_lines)
        self.destination = destination
        self.pickup_node = pickup_node if store_pickup else None
        self.first_attempt = self.attempt = self.attempt + 1
        self.excluded = []
        self.status, self.reason = SourcingStatus.SOURCING, ""
        self.accepted_event = accepted_event
        return self._plan(view, store_pickup)

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
        held = {x.node_code for x in self.reservations if x.status in _OPEN}
        candidates = view.candidates(_materials(r.lines), [self.pickup_node] if self.pickup_node else [])
        shut = self._exclusions(held)
        if self.attempts_used >= max_attempts:
            left = f"no attempt left ({self.attempts_used} of {max_attempts} used)"
            why = f"{refusal}; {left}"
            decision = explain_without_plan(
                r.lines, candidates, why, left, attempt=self.attempt + 1, destination=self.destination,
                excluded=shut,
            )  # fmt: skip
            return self._give_up(why, shortfall, decision)
        result = source(
            r.lines,
            candidates,
            destination=self.destination,
            excluded=[*self.excluded, *held],
            pickup_node=self.pickup_node,
        )
        decision = explain(
            r.lines, candidates, result, attempt=self.attempt + 1, destination=self.destination,
            excluded=shut, pickup_node=self.pickup_node,
        )  # fmt: skip
        if isinstance(result, Unfulfillable):
            return self._give_up(
                f"{refusal}; re-planning its lines failed: {result.reason}", result.shortfall, decision
            )
        self.attempt += 1
        return self._request(result, view, decision)

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
    def _plan(self, view: StockView, store_pickup: bool) -> Requested | GaveUp:
        """The first plan of a sourcing: every line."""
        if store_pickup and not self.pickup_node:
            why = "a store pickup order needs a pickup node and has none"
            return self._give_up(
                why, (), explain_without_plan(self.lines, (), why, why, attempt=self.attempt)
            )
        candidates = view.candidates(_materials(self.lines), [self.pickup_node] if self.pickup_node else [])
        result = source(self.lines, candidates, destination=self.destination, pickup_node=self.pickup_node)
        decision = explain(
            self.lines, candidates, result, attempt=self.attempt, destination=self.destination,
            pickup_node=self.pickup_node,
        )  # fmt: skip
        if isinstance(result, Unfulfillable):
            return self._give_up(result.reason, result.shortfall, decision)
        return self._request(result, view, decision)

    def _exclusions(self, held: set[str]) -> dict[str, str]:
        """Why each node kept out of a re-plan is: it refused, or it holds the order's other lines."""
        current = [x for x in self.reservations if x.attempt >= self.first_attempt]
        out: dict[str, str] = {}
        for code in self.excluded:
            attempts = [
                x.attempt for x in current if x.node_code == code and x.status is ReservationStatus.REFUSED
            ]
            out[code] = (
                f"refused a reservation in attempt {max(attempts)}" if attempts else "refused a reservation"
            )
        for code in sorted(held - out.keys()):
            attempt = max(x.attempt for x in current if x.node_code == code and x.status in _OPEN)
            out[code] = f"already holds this order's other lines (attempt {attempt})"
        return out

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

    def _request(self, plan: Plan, view: StockView, decision: Decision | None = None) -> Requested:
        new = tuple(
            Reservation(
                reservation_id(self.order_id, self.attempt, a.node_code), a.node_code, self.attempt, a.lines
            )
            for a in plan.allocations
        )
        for r in new:
            view.take(r.node_code, r.lines)
        self.reservations.extend(new)
        return Requested(new, decision)

    def _give_up(
        self, reason: str, shortfall: Sequence[Shortfall], decision: Decision | None = None
    ) -> GaveUp:
        self.status = SourcingStatus.UNFULFILLABLE
        self.reason = reason
        self._abandon()
        if decision is not None and decision.reason != reason:
            decision = replace(decision, reason=reason)
        return GaveUp(reason, tuple(shortfall), self.attempts_used, decision)

    def _abandon(self) -> tuple[Reservation, ...]:
        gone = tuple(x for x in self.reservations if x.status in _OPEN)
        for x in gone:
            x.status = ReservationStatus.ABANDONED
        return gone


_OPEN = (ReservationStatus.PENDING, ReservationStatus.RESERVED)


def _materials(lines: Sequence[Line]) -> list[str]:
    return [x.material_code for x in lines]
