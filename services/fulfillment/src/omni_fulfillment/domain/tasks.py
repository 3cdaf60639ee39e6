"""Fulfillment tasks: one per node of an allocated order (per node and group when the order is split by
type), worked by that node's staff.

assigned --accept--> accepted --ship--> shipped        (kind "ship")
                              --pickup--> picked_up    (kind "pickup", the buyer shows the code)
assigned | accepted --cancel--> cancelled              (the order was cancelled)

An open task can also give up units (`take_off`): a partial refund before shipment holds them back
(domain/intercept.py). It keeps shipping what is left; left with nothing, it is cancelled as above.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from .errors import Conflict, Invalid
from .lines import LinePart
from .sourcing import Line


class TaskStatus(StrEnum):
    ASSIGNED = "assigned"
    ACCEPTED = "accepted"
    SHIPPED = "shipped"
    PICKED_UP = "picked_up"
    CANCELLED = "cancelled"


class TaskKind(StrEnum):
    SHIP = "ship"
    PICKUP = "pickup"


DONE = (TaskStatus.SHIPPED, TaskStatus.PICKED_UP)
OPEN = (TaskStatus.ASSIGNED, TaskStatus.ACCEPTED)


@dataclass
class Task:
    task_id: str
    order_id: str
    node_code: str
    kind: TaskKind
    reservation_id: str
    lines: tuple[Line, ...]
    status: TaskStatus = TaskStatus.ASSIGNED
    pickup_code: str | None = None
    accepted_by: str | None = None
    carrier: str | None = None
    tracking_no: str | None = None
    created_at: datetime | None = None
    accepted_at: datetime | None = None
    done_at: datetime | None = None
    cancelled_at: datetime | None = None
    order_lines: tuple[LinePart, ...] = ()  # the order lines its units fulfil (see lines.py)
    group: str | None = None  # split by type: the group of its lines (None: the order's main group)
    changed: bool = field(default=False, compare=False)

    @classmethod
    def new(
        cls,
        task_id: str,
        order_id: str,
        node_code: str,
        reservation_id: str,
        lines: Iterable[Line],
        *,
        pickup_code: str | None,
        now: datetime,
        order_lines: Iterable[LinePart] = (),
        group: str | None = None,
    ) -> Task:
        """A ship task, or a pickup task when a pickup code is given (six digits)."""
        if pickup_code is not None and not (len(pickup_code) == 6 and pickup_code.isdigit()):
            raise ValueError("a pickup code is six digits")
        kind = TaskKind.PICKUP if pickup_code is not None else TaskKind.SHIP
        return cls(
            task_id,
            order_id,
            node_code,
            kind,
            reservation_id,
            tuple(lines),
            pickup_code=pickup_code,
            created_at=now,
            order_lines=tuple(order_lines),
            group=group,
        )

    def accept(self, staff_id: str, now: datetime) -> None:
        if self.status is not TaskStatus.ASSIGNED:
            by = f" by {self.accepted_by}" if self.status is TaskStatus.ACCEPTED and self.accepted_by else ""
            raise Conflict(
                f"task {self.task_id} is {self.status.value}{by}: only an assigned task can be accepted"
            )
        self.status, self.accepted_by, self.accepted_at, self.changed = (
            TaskStatus.ACCEPTED,
            staff_id,
            now,
            True,
        )

    def ship(self, carrier: str, tracking_no: str, now: datetime) -> None:
        if self.kind is not TaskKind.SHIP:
            raise Conflict(
                f"task {self.task_id} is a store pickup: it is handed over with its pickup code, not shipped"
            )
        self._require_accepted("shipped")
        self.status, self.carrier, self.tracking_no, self.done_at = (
            TaskStatus.SHIPPED,
            carrier,
            tracking_no,
            now,
        )
        self.changed = True

    def pickup(self, pickup_code: str, now: datetime) -> None:
        if self.kind is not TaskKind.PICKUP:
            raise Conflict(f"task {self.task_id} is a shipment, not a store pickup")
        self._require_accepted("picked up")
        if self.pickup_code is None or not hmac.compare_digest(pickup_code, self.pickup_code):
            raise Invalid(f"the pickup code does not match task {self.task_id}")
        self.status, self.done_at, self.changed = TaskStatus.PICKED_UP, now, True

    def cancel(self, now: datetime) -> bool:
        """Cancel an open task; a task already done stays done. True when it was cancelled."""
        if self.status not in OPEN:
            return False
        self.status, self.cancelled_at, self.changed = TaskStatus.CANCELLED, now, True
        return True

    def take_off(self, line_id: str, qty: int) -> int:
        """Take up to `qty` units of order line `line_id` off this open task (they will not ship): its order
        lines and its material lines go down together. Returns the units taken (0 when the task is done or
        cancelled, or holds none of that line)."""
        if self.status not in OPEN or qty <= 0:
            return 0
        parts: list[LinePart] = []
        took, material = 0, ""
        for p in self.order_lines:
            take = min(qty - took, p.qty) if p.line_id == line_id else 0
            if take:
                took, material = took + take, p.material_code
            if p.qty - take:
                parts.append(LinePart(p.line_id, p.material_code, p.qty - take) if take else p)
        if not took:
            return 0
        lines: list[Line] = []
        left = took
        for x in self.lines:
            less = min(left, x.qty) if x.material_code == material else 0
            left -= less
            if x.qty - less:
                lines.append(Line(x.material_code, x.qty - less) if less else x)
        self.order_lines, self.lines, self.changed = tuple(parts), tuple(lines), True
        return took

    @property
    def empty(self) -> bool:
        """Nothing left to ship (every unit taken off)."""
        return not any(x.qty for x in self.lines)

    def _require_accepted(self, verb: str) -> None:
        if self.status is not TaskStatus.ACCEPTED:
            hint = " (accept it first)" if self.status is TaskStatus.ASSIGNED else ""
            raise Conflict(
                f"task {self.task_id} is {self.status.value}: only an accepted task can be {verb}{hint}"
            )


def order_fulfilled(tasks: Iterable[Task]) -> bool:
    """Every task of the order (the cancelled ones aside) is shipped or picked up, and there is one."""
    live = [t for t in tasks if t.status is not TaskStatus.CANCELLED]
    return bool(live) and all(t.status in DONE for t in live)
