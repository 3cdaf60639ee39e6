"""Shipments, as the order sees them. Pure: no I/O.

- `shipped_per_line`: what a shipped (or picked-up) task took of each order line. fulfillment.shipped and
  fulfillment.picked-up v2 name the order line of every shipped line (`line_id`): that is taken as said.
  A v1 event (or a line without a line id) carries only (material, qty); it is matched by material to the
  lines the task was allocated (or, when the order recorded no allocation for that task, to all the order's
  lines), in line order, the way the allocation itself was matched (`assign_nodes`).
- `shipping_status`: a split order (several tasks) is partially shipped until every task has shipped.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .intake import LineRef
from .status import Status


@dataclass(frozen=True)
class ShippedLine:
    """One line of a shipment event: the order line it names (v2), or None (v1)."""

    line_id: str | None
    material_code: str
    qty: int


@dataclass(frozen=True)
class LineShipped:
    line_id: str
    qty: int
    matched: bool  # True: matched by material (the event did not name the line)


def shipped_per_line(
    task_id: str,
    shipped: Sequence[ShippedLine],
    order_lines: Sequence[LineRef],
    allocated: Sequence[LineRef] = (),
) -> tuple[list[LineShipped], list[str]]:
    """Units shipped per order line by one task, and (as sentences) what could not be placed.

    `order_lines`: the order's material lines; `allocated`: the task's allocation (line, material, qty).
    """
    known = {x.line_id: x for x in order_lines}
    totals: dict[str, int] = {}
    by_material: set[str] = set()
    unnamed: list[ShippedLine] = []
    problems: list[str] = []
    for s in shipped:
        line = known.get(s.line_id) if s.line_id else None
        if line is not None and line.material_code == s.material_code:
            totals[line.line_id] = totals.get(line.line_id, 0) + s.qty
            continue
        if s.line_id:
            problems.append(
                f"task {task_id} names line {s.line_id} for {s.material_code}, which the order does not have"
            )
        unnamed.append(s)
    candidates = list(allocated) or list(order_lines)
    remaining = {c.line_id: c.qty - totals.get(c.line_id, 0) for c in candidates}
    for s in unnamed:
        left = s.qty
        for c in candidates:
            if left == 0:
                break
            if c.material_code != s.material_code or remaining[c.line_id] <= 0:
                continue
            take = min(left, remaining[c.line_id])
            remaining[c.line_id] -= take
            left -= take
            totals[c.line_id] = totals.get(c.line_id, 0) + take
            by_material.add(c.line_id)
        if left:
            problems.append(f"task {task_id} shipped {left} {s.material_code} that no order line holds")
    return [LineShipped(lid, qty, lid in by_material) for lid, qty in totals.items()], problems


def shipping_status(tasks: Iterable[str], shipped: Iterable[str]) -> Status:
    """SHIPPED once every task of the order has shipped; PARTIALLY_SHIPPED before. An order whose tasks
    are unknown (no allocation recorded) is SHIPPED by its first shipment."""
    remaining = set(tasks) - set(shipped)
    return Status.PARTIALLY_SHIPPED if remaining else Status.SHIPPED
