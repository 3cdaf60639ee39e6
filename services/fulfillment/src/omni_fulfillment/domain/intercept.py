"""A partial refund before shipment, intercepted line by line (截单). Pure.

`order.refund-approved` with `before_shipment` names units of the order's lines that the buyer no longer
gets. A refund of the whole order is not handled here: the OMS cancels that order instead. This module
handles the units of a partial refund:

- **On an open task.** Units on a task that has not left (assigned or accepted) are taken off it with
  `Task.take_off`. The task ships what is left. A task left with nothing is cancelled, as the order's
  cancellation would cancel it.
- **Which task first.** When a line is split over several tasks, its units come first from the tasks not
  yet accepted (nobody is picking them yet), then from the accepted ones. Within each, tasks go in task id
  order.
- **Not intercepted.** Some units are not held back, and each gets a reason (`why`): their task already
  left (shipped or picked up), their line does not ship (a virtual or service line), or no open task
  holds them any more.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from .tasks import DONE, OPEN, Task, TaskKind, TaskStatus


@dataclass(frozen=True)
class Refunded:
    """Units of one order line refunded before shipment (order.refund-approved's lines, qty > 0)."""

    line_id: str
    material_code: str
    qty: int


@dataclass(frozen=True)
class CaseRefund:
    """A case's refunded units, as fulfillment keeps them (table `intercepts`). It is pending while the
    order is still being sourced, and applied to the tasks when the order is allocated."""

    case_id: str
    order_id: str
    lines: tuple[Refunded, ...]


@dataclass(frozen=True)
class Held:
    """Units taken off a task: they will not leave, and their reservation is to give them back."""

    line_id: str
    material_code: str
    qty: int
    task_id: str
    node_code: str
    reservation_id: str
    task_cancelled: bool


@dataclass(frozen=True)
class Gone:
    """Units that could not be held back, and why."""

    line_id: str
    material_code: str
    qty: int
    why: str


@dataclass(frozen=True)
class Interception:
    held: tuple[Held, ...]
    gone: tuple[Gone, ...]
    cancelled: tuple[str, ...]  # the tasks left with nothing, now cancelled


def intercept(
    tasks: Sequence[Task],
    refunded: Sequence[Refunded],
    now: datetime,
    *,
    shipping_lines: Collection[str] = (),
) -> Interception:
    """Take the refunded units off the order's open tasks (changing them), and cancel every task that is
    left with nothing. `shipping_lines` are the order's lines that ship (for the reason a line is not
    held back). A task changed here has `changed` set."""
    open_ = sorted(
        (t for t in tasks if t.status in OPEN),
        key=lambda t: (t.status is not TaskStatus.ASSIGNED, t.task_id),
    )
    taken: list[tuple[Refunded, Task, int]] = []
    gone: list[Gone] = []
    for r in refunded:
        need = r.qty
        for t in open_:
            if need == 0:
                break
            took = t.take_off(r.line_id, need)
            if took:
                taken.append((r, t, took))
                need -= took
        if need:
            gone.append(Gone(r.line_id, r.material_code, need, _why(tasks, r.line_id, shipping_lines)))
    emptied = {t.task_id for _, t, _ in taken if t.empty and t.cancel(now)}
    held = tuple(
        Held(r.line_id, r.material_code, qty, t.task_id, t.node_code, t.reservation_id, t.task_id in emptied)
        for r, t, qty in taken
    )
    return Interception(held, tuple(gone), tuple(sorted(emptied)))


def _why(tasks: Sequence[Task], line_id: str, shipping_lines: Collection[str]) -> str:
    """Why units of `line_id` could not be taken off an open task."""
    left = [t for t in tasks if t.status in DONE and any(p.line_id == line_id for p in t.order_lines)]
    if left:
        how = {TaskKind.SHIP: "shipped from", TaskKind.PICKUP: "picked up at"}
        return "already left: " + ", ".join(f"{how[t.kind]} {t.node_code} (task {t.task_id})" for t in left)
    if (shipping_lines and line_id not in shipping_lines) or (not tasks and not shipping_lines):
        return "the line does not ship (a virtual or service line): nothing to hold back"
    if any(t.lines and not t.order_lines for t in tasks):
        return "its tasks do not record their order lines (made before line ids were kept)"
    return "no open task holds it any more (taken off by an earlier refund, or its task was cancelled)"
