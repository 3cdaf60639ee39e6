"""Backorders (缺货等待): an order no node can fill today waits for stock instead of sitting in exception.

Pure: no I/O.

- `stock_shortfall(reason, shortfall)`: is fulfillment's `order-unfulfillable` a shortage of stock (the
  order waits as a backorder) or a problem of configuration (exception, for an operator)? Fulfillment
  (`omni_fulfillment.domain.sourcing` and `order_sourcing`) gives up for these reasons:
    - "not enough stock in any combination of active nodes: ..."     shortfall: what is short in total;
    - "not enough stock at store pickup node X: ..."                  shortfall: what X lacks;
    - "node X refused the reservation (...); no attempt left ..."     shortfall: what X lacked;
    - "store pickup node X is excluded (it refused a reservation)"    shortfall: every line, 0 available;
    - "store pickup node X is not an active node"                     configuration: no receipt helps;
    - "a store pickup order needs a pickup node and has none"         configuration: empty shortfall.
  So: a stock shortage is a non-empty shortfall (something requested beyond what was available) whose
  reason is not one of the configuration problems.
- `Short`: one material an order waits for, and how many units it lacks.
- `pick_for_receipt`: which waiting backorders a receipt of a material at a node re-sources: the oldest
  first, as far as the node's new available quantity goes (a backorder that does not fit stops the walk: a
  younger order never jumps ahead of an older one for the same stock).
- `BackorderPolicy`: how long a backorder may wait, and what happens when it waited too long.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

BACKORDER = "backorder"  # the reason code of sourcing -> backorder
OVERDUE = "backorder_overdue"  # the reason code of an escalation (backorder -> held, or -> cancelled)
# inventory.stock-changed movements that re-source: goods arriving into a node's good stock (a receipt, a
# transfer in, a till return, an after-sales return inspected good)
RESTOCK_MOVEMENTS = frozenset({"receipt", "transfer-in", "store-return", "return-restock"})
DEFAULT_MAX_AGE_S = 3 * 24 * 3600  # three days

# fulfillment's words for a problem no stock can solve (see the module docstring)
CONFIGURATION_PROBLEMS = ("is not an active node", "needs a pickup node")


class OnOverdue(StrEnum):
    HOLD = "hold"  # backorder -> held (reason code backorder_overdue): an operator releases or cancels it
    CANCEL = "cancel"  # backorder -> cancelled, order.cancelled saying a refund is due


@dataclass(frozen=True)
class BackorderPolicy:
    max_age_s: int = DEFAULT_MAX_AGE_S
    on_overdue: OnOverdue = OnOverdue.HOLD

    def __post_init__(self) -> None:
        if self.max_age_s <= 0:
            raise ValueError(f"a backorder's max age must be positive, got {self.max_age_s} s")
        object.__setattr__(self, "on_overdue", OnOverdue(self.on_overdue))

    def due_at(self, since: datetime) -> datetime:
        """When a backorder waiting since `since` escalates (its place, and so its age, is kept)."""
        return since + timedelta(seconds=self.max_age_s)


class ShortfallLike(Protocol):
    material_code: str
    requested: int
    available: int


@dataclass(frozen=True)
class Short:
    material_code: str
    requested: int
    available: int

    @property
    def missing(self) -> int:
        """The units the order lacks beyond what was available when it was given up on."""
        return max(self.requested - self.available, 0)


def stock_shortfall(reason: str, shortfall: Iterable[ShortfallLike]) -> tuple[Short, ...]:
    """The materials short, when fulfillment gave up for lack of stock; () when stock is not the problem."""
    if any(p in reason for p in CONFIGURATION_PROBLEMS):
        return ()
    short = tuple(Short(s.material_code, s.requested, s.available) for s in shortfall)
    return short if any(s.missing for s in short) else ()


@dataclass(frozen=True)
class Waiting:
    """A backorder waiting for a material, in its place (oldest first), and what it lacks of it."""

    order_id: str
    missing: int
    pickup_node: str | None = None  # a store pickup order is filled at that node only


def pick_for_receipt(waiting: Sequence[Waiting], node_code: str, available: int) -> list[str]:
    """The orders (oldest first) that `available` units at `node_code` may fill, in `waiting`'s order."""
    picked: list[str] = []
    left = available
    for w in waiting:
        if w.pickup_node is not None and w.pickup_node != node_code:
            continue  # this stock cannot reach a pickup at another store: it keeps its place elsewhere
        need = max(w.missing, 1)
        if need > left:
            break
        picked.append(w.order_id)
        left -= need
    return picked


def overdue_reason(policy: BackorderPolicy, since: datetime, now: datetime) -> str:
    waited = int((now - since).total_seconds())
    what = "held for an operator" if policy.on_overdue is OnOverdue.HOLD else "cancelled; a refund is due"
    return f"backorder waited {waited} s, longer than the {policy.max_age_s} s allowed: {what}"
