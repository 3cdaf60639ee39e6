"""Fulfillment tasks: one per node of an allocated order (per node and group when the order is split by
type), worked by that node's staff. Pure.

    assigned --accept--> accepted --start picking / pick--> picking --pack--> packed --ship--> shipped
                                  --pack (all at hand)--------------------->
                         accepted --ship--> shipped                 (a warehouse: its WMS picks and packs)
    pickup:              accepted | picking --ready--> ready_for_pickup --hand over (code)--> picked_up
    assigned | accepted | picking --reject (whole)--> rejected      (its units are re-sourced elsewhere)
    assigned --accept SLA ran out--> reassigned                     (re-sourced elsewhere)
    any open state --cancel--> cancelled                            (the order was cancelled; or a pickup
                                                                     was not collected within its hold)

A store's ship task is packed before it ships; a warehouse's (or one made before node types were kept) may
ship straight from accepted. Packing (or ready) from accepted says every unit is at hand. A partial reject or
an accepted shortage gives units back (`give_back`); a partial refund before shipment takes units of an
order line off (`take_off`, domain/intercept.py): the task keeps the rest, or is cancelled when empty.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from .errors import Conflict, Invalid
from .lines import LinePart
from .sourcing import Line


class TaskStatus(StrEnum):
    ASSIGNED = "assigned"
    ACCEPTED = "accepted"
    PICKING = "picking"
    PACKED = "packed"
    READY_FOR_PICKUP = "ready_for_pickup"
    SHIPPED = "shipped"
    PICKED_UP = "picked_up"
    REJECTED = "rejected"
    REASSIGNED = "reassigned"
    CANCELLED = "cancelled"


class TaskKind(StrEnum):
    SHIP = "ship"
    PICKUP = "pickup"


DONE = (TaskStatus.SHIPPED, TaskStatus.PICKED_UP)
OPEN = (
    TaskStatus.ASSIGNED,
    TaskStatus.ACCEPTED,
    TaskStatus.PICKING,
    TaskStatus.PACKED,
    TaskStatus.READY_FOR_PICKUP,
)
ENDED = (TaskStatus.REJECTED, TaskStatus.REASSIGNED, TaskStatus.CANCELLED)  # no longer the order's
REJECTABLE = (TaskStatus.ASSIGNED, TaskStatus.ACCEPTED, TaskStatus.PICKING)
STORE = "store"
LOCK_FOR = timedelta(minutes=15)


class PickupOutcome(StrEnum):
    HANDED_OVER = "done"
    WRONG_CODE = "wrong_code"
    LOCKED = "locked"


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
    node_type: str | None = None  # its node's type when it was made (None: made before they were kept)
    channel: str | None = None
    picked: tuple[Line, ...] = ()
    picking_at: datetime | None = None
    packed_at: datetime | None = None
    ready_at: datetime | None = None
    released_at: datetime | None = None  # rejected or reassigned
    due_kind: str | None = None  # the SLA running: accept | pick_pack | pickup_hold
    due_at: datetime | None = None
    escalated_at: datetime | None = None
    escalation: str | None = None
    code_failures: int = 0
    locked_until: datetime | None = None
    code_sent: int = 0
    status_reason: str | None = None
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

    # -- the staff's steps ---------------------------------------------------------------------------------
    def accept(self, staff_id: str, now: datetime) -> None:
        if self.status is not TaskStatus.ASSIGNED:
            by = f" by {self.accepted_by}" if self.status is TaskStatus.ACCEPTED and self.accepted_by else ""
            raise Conflict(
                f"task {self.task_id} is {self.status.value}{by}: only an assigned task can be accepted"
            )
        self.status, self.accepted_by, self.accepted_at = TaskStatus.ACCEPTED, staff_id, now
        self.changed = True

    def start_picking(self, now: datetime) -> None:
        self._require(TaskStatus.ACCEPTED, "start picking")
        self.status, self.picking_at, self.changed = TaskStatus.PICKING, now, True

    def pick(self, material_code: str, qty: int, now: datetime) -> None:
        """`qty` units of `material_code` are picked (the count so far, not an increment); picking starts
        with the first pick of an accepted task."""
        if self.status is TaskStatus.ACCEPTED:
            self.start_picking(now)
        self._require(TaskStatus.PICKING, "pick")
        need = self.needed(material_code)
        if qty < 0 or qty > need:
            raise Invalid(f"task {self.task_id} needs {need} of {material_code}: {qty} cannot be picked")
        picked = {x.material_code: x.qty for x in self.picked}
        picked[material_code] = qty
        self.picked = tuple(Line(m, q) for m, q in sorted(picked.items()) if q)
        self.changed = True

    def scan(self, code: str, now: datetime) -> str:
        """One unit of the material whose code was scanned; returns the material."""
        if self.needed(code) == 0:
            raise Invalid(f"{code} is not on task {self.task_id}")
        done = self.picked_of(code)
        if done >= self.needed(code):
            raise Invalid(f"every unit of {code} on task {self.task_id} is picked already ({done})")
        self.pick(code, done + 1, now)
        return code

    def shortage(self) -> tuple[Line, ...]:
        """What is not picked yet (nothing while the task is accepted: packing from accepted picks all)."""
        if self.status is not TaskStatus.PICKING:
            return ()
        return tuple(
            Line(x.material_code, x.qty - self.picked_of(x.material_code))
            for x in self.lines
            if x.qty > self.picked_of(x.material_code)
        )

    def pack(self, now: datetime) -> None:
        """Every unit is picked (or, from accepted, at hand): the parcel is packed."""
        if self.kind is not TaskKind.SHIP:
            raise Conflict(f"task {self.task_id} is a store pickup: it is made ready for pickup, not packed")
        self._finish_picking("packed")
        self.status, self.packed_at, self.changed = TaskStatus.PACKED, now, True

    def ready(self, now: datetime) -> None:
        """Every unit is picked (or at hand): the goods wait for the buyer at the counter."""
        if self.kind is not TaskKind.PICKUP:
            raise Conflict(f"task {self.task_id} is a shipment: it is packed and shipped, not picked up")
        self._finish_picking("made ready for pickup")
        self.status, self.ready_at, self.changed = TaskStatus.READY_FOR_PICKUP, now, True

    def ship(self, carrier: str, tracking_no: str, now: datetime) -> None:
        if self.kind is not TaskKind.SHIP:
            raise Conflict(
                f"task {self.task_id} is a store pickup: it is handed over with its pickup code, not shipped"
            )
        if self.status is TaskStatus.ACCEPTED and self.node_type == STORE:
            raise Conflict(f"task {self.task_id} is at a store: pick and pack it before it ships")
        if self.status is TaskStatus.PICKING:
            raise Conflict(f"task {self.task_id} is picking: pack it before it ships")
        if self.status not in (TaskStatus.ACCEPTED, TaskStatus.PACKED):
            hint = " (accept it first)" if self.status is TaskStatus.ASSIGNED else ""
            raise Conflict(
                f"task {self.task_id} is {self.status.value}: only an accepted task can be shipped{hint}"
            )
        self.status, self.carrier, self.tracking_no, self.done_at = (
            TaskStatus.SHIPPED,
            carrier,
            tracking_no,
            now,
        )
        self.changed = True

    def pickup(
        self, pickup_code: str, now: datetime, *, max_failures: int = 5, lock_for: timedelta = LOCK_FOR
    ) -> PickupOutcome:
        """Hand the goods over to the buyer who shows the code. A wrong code counts; the `max_failures`-th
        wrong one in a row locks the task for `lock_for` (every try is refused until then)."""
        if self.kind is not TaskKind.PICKUP:
            raise Conflict(f"task {self.task_id} is a shipment, not a store pickup")
        if self.status is not TaskStatus.READY_FOR_PICKUP:
            hint = " (make it ready for pickup first)" if self.status in OPEN else ""
            raise Conflict(
                f"task {self.task_id} is {self.status.value}: only a task ready for pickup can be picked "
                f"up{hint}"
            )
        if self.locked_until is not None and now < self.locked_until:
            return PickupOutcome.LOCKED
        if self.pickup_code is None or not hmac.compare_digest(pickup_code, self.pickup_code):
            self.code_failures += 1
            if self.code_failures >= max_failures:
                self.locked_until, self.code_failures = now + lock_for, 0
            self.changed = True
            return PickupOutcome.WRONG_CODE
        self.status, self.done_at, self.code_failures, self.locked_until = TaskStatus.PICKED_UP, now, 0, None
        self.changed = True
        return PickupOutcome.HANDED_OVER

    # -- what else ends or changes a task -------------------------------------------------------------------
    def reject(self, reason: str, now: datetime) -> None:
        """The whole task is given back (its staff rejected it, or nothing of it could be picked)."""
        if self.status not in REJECTABLE:
            raise Conflict(
                f"task {self.task_id} is {self.status.value}: only an assigned, accepted or picking task can "
                "be rejected"
            )
        self._end(TaskStatus.REJECTED, reason, now)

    def reassign(self, reason: str, now: datetime) -> bool:
        """The accept SLA ran out: True when the task was still assigned (it moves elsewhere)."""
        if self.status is not TaskStatus.ASSIGNED:
            return False
        self._end(TaskStatus.REASSIGNED, reason, now)
        return True

    def cancel(self, now: datetime, reason: str | None = None) -> bool:
        """Cancel an open task; a task done or ended stays so. True when it was cancelled."""
        if self.status not in OPEN:
            return False
        self.status, self.cancelled_at, self.changed = TaskStatus.CANCELLED, now, True
        self.status_reason = reason or self.status_reason
        self.due_kind = self.due_at = None
        return True

    def escalate(self, reason: str, now: datetime) -> bool:
        """The pick-and-pack SLA ran out: marked once, while still being picked (nothing moves)."""
        if self.status not in (TaskStatus.ACCEPTED, TaskStatus.PICKING) or self.escalated_at is not None:
            return False
        self.escalated_at, self.escalation, self.changed = now, reason, True
        return True

    def give_back(self, material_code: str, qty: int) -> list[LinePart | Line]:
        """Take `qty` units of `material_code` off this task (rejected, or short at picking): its material
        lines, its order lines (the last ones first) and what was picked beyond what is left. Returns what
        was taken, per order line (a Line for a task made before line ids were kept)."""
        have = self.needed(material_code)
        if qty <= 0 or qty > have:
            raise Invalid(f"task {self.task_id} holds {have} of {material_code}: {qty} cannot be given back")
        taken: list[LinePart | Line] = []
        if self.order_lines:
            parts, left = list(self.order_lines), qty
            for i in range(len(parts) - 1, -1, -1):
                p = parts[i]
                if p.material_code != material_code or not left:
                    continue
                n = min(left, p.qty)
                taken.append(LinePart(p.line_id, material_code, n))
                parts[i], left = LinePart(p.line_id, material_code, p.qty - n), left - n
            self.order_lines = tuple(p for p in parts if p.qty)
        else:
            taken.append(Line(material_code, qty))
        self.lines = tuple(
            Line(x.material_code, x.qty - qty) if x.material_code == material_code else x
            for x in self.lines
            if x.material_code != material_code or x.qty > qty
        )
        left = have - qty
        if self.picked_of(material_code) > left:
            self.picked = tuple(
                Line(x.material_code, left) if x.material_code == material_code else x
                for x in self.picked
                if x.material_code != material_code or left
            )
        self.changed = True
        return taken

    def take_off(self, line_id: str, qty: int) -> int:
        """Take up to `qty` units of order line `line_id` off this open task (they will not ship): its order
        lines and its material lines go down together. Returns the units taken (0 when the task is done or
        ended, or holds none of that line)."""
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

    # -- reading --------------------------------------------------------------------------------------------
    @property
    def empty(self) -> bool:  # nothing left to ship (every unit taken off)
        return not any(x.qty for x in self.lines)

    def needed(self, material_code: str) -> int:
        return sum(x.qty for x in self.lines if x.material_code == material_code)

    def picked_of(self, material_code: str) -> int:
        return sum(x.qty for x in self.picked if x.material_code == material_code)

    def actions(self, now: datetime) -> list[str]:
        """What its staff may do next (what the store's page offers)."""
        s, pickup = self.status, self.kind is TaskKind.PICKUP
        out: list[str] = []
        if s is TaskStatus.ASSIGNED:
            out = ["accept"]
        elif s is TaskStatus.ACCEPTED:
            out = ["pick", "ready"] if pickup else ["pick", "pack"]
            if not pickup and self.node_type != STORE:
                out.append("ship")
        elif s is TaskStatus.PICKING:
            out = ["pick", "ready" if pickup else "pack"]
        elif s is TaskStatus.PACKED:
            out = ["ship"]
        elif s is TaskStatus.READY_FOR_PICKUP:
            out = ["resend_code"] + ([] if self.locked_until and now < self.locked_until else ["handover"])
        return out + (["reject"] if s in REJECTABLE else [])

    # -- inside ---------------------------------------------------------------------------------------------
    def _require(self, status: TaskStatus, verb: str) -> None:
        if self.status is not status:
            hint = " (accept it first)" if self.status is TaskStatus.ASSIGNED else ""
            a = "an" if status.value[0] in "aeiou" else "a"
            raise Conflict(
                f"task {self.task_id} is {self.status.value}: only {a} {status.value} task can {verb}{hint}"
            )

    def _finish_picking(self, verb: str) -> None:
        if self.status not in (TaskStatus.ACCEPTED, TaskStatus.PICKING):
            hint = " (accept it first)" if self.status is TaskStatus.ASSIGNED else ""
            raise Conflict(
                f"task {self.task_id} is {self.status.value}: only an accepted or picking task can be "
                f"{verb}{hint}"
            )
        if short := self.shortage():
            what = ", ".join(f"{x.material_code} short {x.qty}" for x in short)
            raise Conflict(
                f"task {self.task_id} is not fully picked ({what}): pick the rest, or accept the shortage "
                "(its units are re-sourced elsewhere)"
            )
        self.picked = self.lines

    def _end(self, status: TaskStatus, reason: str, now: datetime) -> None:
        self.status, self.released_at, self.status_reason = status, now, reason
        self.due_kind = self.due_at = None
        self.changed = True


def order_fulfilled(tasks: Iterable[Task]) -> bool:
    """Every task of the order still its own (cancelled, rejected and reassigned ones aside) is shipped or
    picked up, and there is one."""
    live = [t for t in tasks if t.status not in ENDED]
    return bool(live) and all(t.status in DONE for t in live)
