"""The order state machine (execution engine). Pure: no I/O.

    received -> accepted -> sourcing -> allocated -> shipped -> completed
    accepted -> completed                         (nothing to ship: every line virtual, fulfilled by the OMS)
    allocated -> partially_shipped -> shipped    (a split order: some of its tasks have shipped)
    received -> held -> accepted                  (review: a hold applies; released or approved)
    held -> merged -> accepted | held | cancelled (folded into a merged order; unmerged, or cancelled with it)
    sourcing -> backorder -> accepted             (no node can fill it today; re-sourced when stock comes)
    backorder -> held                             (waited too long: escalated to an operator)
    received | held | accepted | sourcing | allocated | backorder -> cancelled
    received | accepted | sourcing | allocated -> exception
    exception -> accepted (manual retry) | cancelled

Nothing else is allowed.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    RECEIVED = "received"
    ACCEPTED = "accepted"
    SOURCING = "sourcing"
    ALLOCATED = "allocated"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    EXCEPTION = "exception"
    HELD = "held"
    BACKORDER = "backorder"
    MERGED = "merged"


_OPEN = (
    Status.RECEIVED, Status.HELD, Status.ACCEPTED, Status.SOURCING, Status.ALLOCATED, Status.BACKORDER,
    Status.EXCEPTION,
)  # fmt: skip

TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.RECEIVED: frozenset({Status.HELD, Status.ACCEPTED, Status.CANCELLED, Status.EXCEPTION}),
    Status.HELD: frozenset({Status.ACCEPTED, Status.MERGED, Status.CANCELLED}),
    Status.MERGED: frozenset({Status.ACCEPTED, Status.HELD, Status.CANCELLED}),
    Status.ACCEPTED: frozenset({Status.SOURCING, Status.COMPLETED, Status.CANCELLED, Status.EXCEPTION}),
    Status.SOURCING: frozenset({Status.ALLOCATED, Status.BACKORDER, Status.CANCELLED, Status.EXCEPTION}),
    Status.BACKORDER: frozenset({Status.ACCEPTED, Status.HELD, Status.CANCELLED}),
    # backorder: a store gave the order's units back and no other node could take them (issue #11)
    Status.ALLOCATED: frozenset(
        {Status.PARTIALLY_SHIPPED, Status.SHIPPED, Status.CANCELLED, Status.EXCEPTION, Status.BACKORDER}
    ),
    Status.PARTIALLY_SHIPPED: frozenset({Status.SHIPPED}),
    Status.SHIPPED: frozenset({Status.COMPLETED}),
    Status.COMPLETED: frozenset(),
    Status.CANCELLED: frozenset(),
    # an operator may retry a stuck order, or cancel it (e.g. the buyer was refunded on the platform)
    Status.EXCEPTION: frozenset({Status.ACCEPTED, Status.CANCELLED}),
}

# The happy path, in order: used to tell a late (already passed) event from a jump ahead.
HAPPY_PATH: tuple[Status, ...] = (
    Status.RECEIVED,
    Status.ACCEPTED,
    Status.SOURCING,
    Status.ALLOCATED,
    Status.PARTIALLY_SHIPPED,
    Status.SHIPPED,
    Status.COMPLETED,
)


class DomainError(Exception):
    """A rule of the order domain refused something; the message is a sentence for an operator."""


class IllegalTransition(DomainError):
    def __init__(self, from_status: Status, to_status: Status, order_id: str | None = None) -> None:
        self.from_status = from_status
        self.to_status = to_status
        self.order_id = order_id
        allowed = sorted(TRANSITIONS[from_status])
        who = f"order {order_id}" if order_id else "an order"
        if from_status == to_status:
            msg = f"{who} is already {from_status}"
        else:
            msg = f"{who} in status {from_status} cannot become {to_status}"
        if allowed:
            msg += f" (from {from_status} it can only become {_words(allowed)})"
        else:
            msg += f" ({from_status} is final)"
        if to_status == Status.CANCELLED and from_status != to_status:
            msg += f"; an order can be cancelled only while {_words(_OPEN, 'or')}"
        super().__init__(msg)


def _words(items: object, joiner: str = "or") -> str:
    names = [str(i) for i in items]  # type: ignore[attr-defined]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} {joiner} {names[-1]}"


def can_transition(from_status: Status, to_status: Status) -> bool:
    return to_status in TRANSITIONS[from_status]


def check_transition(from_status: Status, to_status: Status, order_id: str | None = None) -> None:
    """Raise IllegalTransition unless the machine allows `from_status -> to_status`."""
    if not can_transition(from_status, to_status):
        raise IllegalTransition(from_status, to_status, order_id)


class Reaction(StrEnum):
    APPLY = "apply"  # a legal transition: make it
    IGNORE = "ignore"  # a harmless replay or a late event the order has already gone past: log and skip
    CONFLICT = "conflict"  # the event contradicts the order's state: retrying cannot help


def react(current: Status, target: Status) -> Reaction:
    """How to treat an event from another service that asks the order to move to `target`.

    - legal transition -> APPLY;
    - the order is already there, or further along the happy path -> IGNORE (replay or late event);
    - the order was cancelled and the event only concerns planning (sourcing, allocation, unfulfillable)
      -> IGNORE (fulfillment releases what it held when it sees the cancellation);
    - an order already in exception hears of another planning outcome (sourcing again, unfulfillable
      again) -> IGNORE;
    - anything else (goods leaving for a cancelled order, an order skipping steps) -> CONFLICT.
    """
    if can_transition(current, target):
        return Reaction.APPLY
    if current == target:
        return Reaction.IGNORE
    planning = {Status.SOURCING, Status.ALLOCATED, Status.EXCEPTION, Status.BACKORDER}
    if current == Status.CANCELLED and target in planning:
        return Reaction.IGNORE
    if current in (Status.EXCEPTION, Status.BACKORDER) and target in (Status.SOURCING, Status.EXCEPTION):
        return Reaction.IGNORE
    if current == Status.EXCEPTION and target == Status.BACKORDER:
        return Reaction.IGNORE
    if current in (Status.HELD, Status.MERGED) and target in planning:
        return Reaction.IGNORE  # a leftover planning outcome for an order since held (an escalated backorder)
    if (
        current in HAPPY_PATH
        and target in HAPPY_PATH
        and HAPPY_PATH.index(current) > HAPPY_PATH.index(target)
    ):
        return Reaction.IGNORE
    if current in (Status.PARTIALLY_SHIPPED, Status.SHIPPED, Status.COMPLETED) and target == Status.EXCEPTION:
        return Reaction.IGNORE  # planning gave up on a leftover attempt after the goods left: nothing to do
    return Reaction.CONFLICT
