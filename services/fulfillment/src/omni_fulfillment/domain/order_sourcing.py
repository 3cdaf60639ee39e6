"""One order's way from "accepted" to "allocated" (or "unfulfillable"): plan, reserve, re-plan on refusal.

The current plan is the set of reservations that are pending or reserved. A refusal drops that node's
reservation, excludes the node and re-plans only its lines (what other nodes hold is kept), with a new
attempt number, at most `max_attempts` attempts in all. When no reservation is pending any more, the
order is allocated: one task per reserved node.

An order given up on (unfulfillable) is sourced again when its acceptance comes again (an operator's
retry, after new stock arrived): a new plan against the stock of the day, with a fresh budget of attempts
and no excluded node. Attempt numbers go on from the last one, so that every reservation id stays unique.

Split by type (拆单): the lines of a group (cold_chain, frozen, ...) are sourced apart from the other groups'
lines, as if each group were an order of its own: one plan per group (the main group, lines without a
group, first; then the named groups by name), so lines of different groups never share a reservation or a
task, even at the same node. A refusal re-plans only its group's lines, with that group's refused and held
nodes kept out and that group's budget of attempts (attempt numbers stay one sequence per order). The order
is allocated when every group's reservations are reserved; it is given up on when any group cannot be
filled. An order with nothing to ship (every line is virtual or a service) is fulfilled at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from .explain import Decision, explain, explain_without_plan, for_group
from .lines import OrderLine
from .routing import NO_ROUTING, OrderRouting
from .sourcing import Line, Plan, Point, Shortfall, Unfulfillable, source
from .sourcing_steps import (
    NOTHING_TO_SHIP,
    Allocated,
    Cancelled,
    GaveUp,
    Ignored,
    NothingToShip,
    Outcome,
    Requested,
    Reservation,
    ReservationStatus,
    SourcingStatus,
    Waiting,
    reservation_id,
)
from .stock_view import StockView

__all__ = [
    "NOTHING_TO_SHIP",
    "Allocated",
    "Cancelled",
    "GaveUp",
    "Ignored",
    "NothingToShip",
    "OrderSourcing",
    "Outcome",
    "Requested",
    "Reservation",
    "ReservationStatus",
    "SourcingStatus",
    "Waiting",
    "reservation_id",
]


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
    routing: OrderRouting = NO_ROUTING  # what the order asks of routing (routing.py): kept for its re-plans

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

    @property
    def split_by_type(self) -> bool:
        """Some line is in a named group: every decision and give-up then says which group it is about."""
        return any(x.group for x in self.order_lines)

    def groups(self) -> list[tuple[str | None, tuple[Line, ...]]]:
        """The lines to source, per group: the main group (None) first, then the named groups by name. An
        order kept without its order lines (sourced before ids were kept) is all main group."""
        if not self.order_lines:
            return [(None, self.lines)] if self.lines else []
        by: dict[str | None, list[Line]] = {}
        for x in self.order_lines:
            by.setdefault(x.group, []).append(Line(x.material_code, x.qty))
        return [(g, tuple(by[g])) for g in sorted(by, key=lambda g: (g is not None, g or ""))]

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
        routing: OrderRouting = NO_ROUTING,
    ) -> tuple[OrderSourcing, Requested | GaveUp | NothingToShip]:
        """Plan a new order: each group of its lines apart. A store pickup goes to its pickup node only.
        `lines` are the lines that ship (`order_lines` with their ids and groups, in the same order)."""
        order = cls(
            order_id,
            tuple(lines),
            destination,
            pickup_node if store_pickup else None,
            order_lines=tuple(order_lines),
            accepted_event=accepted_event,
            routing=routing,
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
        routing: OrderRouting = NO_ROUTING,
    ) -> Requested | GaveUp | Ignored | NothingToShip:
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
        self.routing = routing
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
        """Re-plan the refused reservation's lines, within its group: the nodes that refused this group and
        the nodes holding its other lines are kept out, and the group has `max_attempts` attempts."""
        r = self._pending(reservation_id)
        if isinstance(r, Ignored):
            return r
        r.status = ReservationStatus.REFUSED
        for s in shortfall:
            view.set_available(r.node_code, s.material_code, s.available)
        if r.node_code not in self.excluded:
            self.excluded.append(r.node_code)
        group = r.group
        refusal = self._say(group, f"node {r.node_code} refused the reservation ({reason})")
        mine = [x for x in self._current() if x.group == group]
        held = {x.node_code for x in mine if x.status in _OPEN}
        refused = {x.node_code for x in mine if x.status is ReservationStatus.REFUSED}
        used = len({x.attempt for x in mine})  # every plan of the group requested one reservation or more
        candidates = view.candidates(_materials(r.lines), [self.pickup_node] if self.pickup_node else [])
        shut = self._exclusions(group, held)
        if used >= max_attempts:
            left = f"no attempt left ({used} of {max_attempts} used)"
            why = f"{refusal}; {left}"
            decision = explain_without_plan(
                r.lines, candidates, why, left, attempt=self.attempt + 1, destination=self.destination,
                excluded=shut,
            )  # fmt: skip
            return self._give_up(why, shortfall, self._labelled(decision, group), used)
        result = source(
            r.lines,
            candidates,
            destination=self.destination,
            excluded=[*(c for c in self.excluded if c in refused), *held],
            pickup_node=self.pickup_node,
            routing=self.routing,
        )
        decision = explain(
            r.lines, candidates, result, attempt=self.attempt + 1, destination=self.destination,
            excluded=shut, pickup_node=self.pickup_node, routing=self.routing,
        )  # fmt: skip
        if isinstance(result, Unfulfillable):
            return self._give_up(
                f"{refusal}; re-planning its lines failed: {result.reason}",
                result.shortfall,
                self._labelled(decision, group),
                used,
            )
        self.attempt += 1
        made = self._reservations(result, group, view)
        self.reservations.extend(made)
        return Requested(made, (self._labelled(decision, group),))

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
    def _plan(self, view: StockView, store_pickup: bool) -> Requested | GaveUp | NothingToShip:
        """The first plan of a sourcing: every line, group by group. When a group cannot be planned, the
        order is given up on and the groups planned before it are dropped (never requested)."""
        if not self.lines:
            self.status, self.reason = SourcingStatus.FULFILLED, NOTHING_TO_SHIP
            return NothingToShip()
        if store_pickup and not self.pickup_node:
            why = "a store pickup order needs a pickup node and has none"
            return self._give_up(
                why, (), explain_without_plan(self.lines, (), why, why, attempt=self.attempt)
            )
        made: list[Reservation] = []
        decisions: list[Decision] = []
        for group, lines in self.groups():
            also = [self.pickup_node] if self.pickup_node else []
            candidates = view.candidates(_materials(lines), also)
            result = source(
                lines, candidates, destination=self.destination, pickup_node=self.pickup_node,
                routing=self.routing,
            )  # fmt: skip
            explained = explain(
                lines, candidates, result, attempt=self.attempt, destination=self.destination,
                pickup_node=self.pickup_node, routing=self.routing,
            )  # fmt: skip
            decision = self._labelled(explained, group)
            if isinstance(result, Unfulfillable):
                for r in made:
                    view.give_back(r.node_code, r.lines)
                return self._give_up(self._say(group, result.reason), result.shortfall, decision)
            made.extend(self._reservations(result, group, view))
            decisions.append(decision)
        self.reservations.extend(made)
        return Requested(tuple(made), tuple(decisions))

    def _current(self) -> list[Reservation]:
        """The reservations of the current sourcing (a retry starts a new one)."""
        return [x for x in self.reservations if x.attempt >= self.first_attempt]

    def _label(self, group: str | None) -> str:
        if not self.split_by_type:
            return ""
        return f"{group} group" if group else "main group"

    def _say(self, group: str | None, text: str) -> str:
        label = self._label(group)
        return f"{label}: {text}" if label else text

    def _labelled(self, decision: Decision, group: str | None) -> Decision:
        return for_group(decision, group, self._label(group))

    def _exclusions(self, group: str | None, held: set[str]) -> dict[str, str]:
        """Why each node kept out of a group's re-plan is: it refused a reservation of the group, or it holds
        the group's other lines."""
        current = [x for x in self._current() if x.group == group]
        refused = {x.node_code for x in current if x.status is ReservationStatus.REFUSED}
        out: dict[str, str] = {}
        for code in (c for c in self.excluded if c in refused):
            attempts = [
                x.attempt for x in current if x.node_code == code and x.status is ReservationStatus.REFUSED
            ]
            out[code] = f"refused a reservation in attempt {max(attempts)}"
        whose = "this group's" if self.split_by_type else "this order's"
        for code in sorted(held - out.keys()):
            attempt = max(x.attempt for x in current if x.node_code == code and x.status in _OPEN)
            out[code] = f"already holds {whose} other lines (attempt {attempt})"
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

    def _reservations(self, plan: Plan, group: str | None, view: StockView) -> tuple[Reservation, ...]:
        """One reservation per node of a group's plan, in this attempt; what they take is gone from `view`."""
        new = tuple(
            Reservation(
                reservation_id(self.order_id, self.attempt, a.node_code, group),
                a.node_code,
                self.attempt,
                a.lines,
                group=group,
            )
            for a in plan.allocations
        )
        for r in new:
            view.take(r.node_code, r.lines)
        return new

    def _give_up(
        self,
        reason: str,
        shortfall: Sequence[Shortfall],
        decision: Decision | None = None,
        attempts: int | None = None,
    ) -> GaveUp:
        """Give the whole order up (every group's reservations abandoned); `attempts`: those the failing
        group used (the order's, by default)."""
        self.status = SourcingStatus.UNFULFILLABLE
        self.reason = reason
        self._abandon()
        if decision is not None and decision.reason != reason:
            decision = replace(decision, reason=reason)
        used = self.attempts_used if attempts is None else attempts
        return GaveUp(reason, tuple(shortfall), used, decision)

    def _abandon(self) -> tuple[Reservation, ...]:
        gone = tuple(x for x in self.reservations if x.status in _OPEN)
        for x in gone:
            x.status = ReservationStatus.ABANDONED
        return gone


_OPEN = (ReservationStatus.PENDING, ReservationStatus.RESERVED)


def _materials(lines: Sequence[Line]) -> list[str]:
    return [x.material_code for x in lines]
