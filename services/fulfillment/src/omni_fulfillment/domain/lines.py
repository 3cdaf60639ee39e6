"""Which order lines a task's units fulfil. Pure.

Sourcing plans per material (an order's lines of one material are added up), so a task line may cover
several order lines of that material, and one order line may be split over tasks at several nodes. The
split is decided once, when the order is allocated, and kept on the task: its shipment then names, for
every unit, the order line (`order.accepted`'s `lines[].line_id`) it fulfils.

Split by type (拆单): an order line may belong to a group (cold_chain, frozen, ...; None is the order's main
group). Each group is sourced apart, so the split is made group by group: a task of a group fulfils only
that group's order lines, even when another group has lines of the same material.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .sourcing import Line


@dataclass(frozen=True)
class OrderLine:
    """A line of the order as accepted (one that ships): its id, material, quantity and group."""

    line_id: str
    material_code: str
    qty: int
    group: str | None = None  # split by type: sourced and shipped apart from other groups; None: main


@dataclass(frozen=True)
class LinePart:
    """`qty` units of `material_code` of a task, for order line `line_id`."""

    line_id: str
    material_code: str
    qty: int


def split_by_order_line(
    order_lines: Sequence[OrderLine], task_lines: Sequence[Sequence[Line]]
) -> list[tuple[LinePart, ...]]:
    """For each task (its material lines, in the order given), the order lines its units fulfil.

    The order lines of a material are used up in their order, task by task, line by line, so the parts of
    a task line add up to it and the parts of an order line (over every task) add up to it. Without order
    lines (an order sourced before line ids were kept) every task gets none; so does a task whose units
    the order lines do not cover (the plan and the order disagree, which sourcing never does): its shipment
    then names no line rather than a wrong one.
    """
    if not order_lines:
        return [() for _ in task_lines]
    left: dict[str, list[OrderLine]] = {}  # per material, what is left of its order lines, in order
    for ol in order_lines:
        left.setdefault(ol.material_code, []).append(ol)
    out: list[tuple[LinePart, ...]] = []
    for lines in task_lines:
        parts: list[LinePart] = []
        for line in lines:
            need = line.qty
            queue = left.get(line.material_code, [])
            while need > 0 and queue:
                head = queue[0]
                take = min(need, head.qty)
                parts.append(LinePart(head.line_id, line.material_code, take))
                need -= take
                if take == head.qty:
                    queue.pop(0)
                else:
                    queue[0] = OrderLine(head.line_id, head.material_code, head.qty - take)
        covered = sum(p.qty for p in parts) == sum(x.qty for x in lines)
        out.append(tuple(parts) if covered else ())
    return out


def split_by_group(
    order_lines: Sequence[OrderLine], tasks: Sequence[tuple[str | None, Sequence[Line]]]
) -> list[tuple[LinePart, ...]]:
    """`split_by_order_line` group by group: for each task (its group and material lines, in the order
    given), the order lines of its group its units fulfil."""
    out: list[tuple[LinePart, ...]] = [() for _ in tasks]
    for group in dict.fromkeys(g for g, _ in tasks):
        mine = [i for i, (g, _) in enumerate(tasks) if g == group]
        theirs = [x for x in order_lines if x.group == group]
        for i, parts in zip(mine, split_by_order_line(theirs, [tasks[i][1] for i in mine]), strict=True):
            out[i] = parts
    return out


def material_lines(order_lines: Iterable[OrderLine]) -> tuple[Line, ...]:
    return tuple(Line(x.material_code, x.qty) for x in order_lines)
