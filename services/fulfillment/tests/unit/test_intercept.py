"""Taking a partial refund's units off the order's tasks (domain/intercept.py, Task.take_off): part of a
task, a whole task (cancelled), units already gone, a line split over tasks, lines that do not ship."""

from __future__ import annotations

from datetime import UTC, datetime

from omni_fulfillment.domain.intercept import Gone, Held, Refunded, intercept
from omni_fulfillment.domain.lines import LinePart
from omni_fulfillment.domain.sourcing import Line
from omni_fulfillment.domain.tasks import Task, TaskStatus

NOW = datetime(2026, 12, 10, 9, 0, tzinfo=UTC)


def task(task_id: str, node: str, parts: list[tuple[str, str, int]], pickup: bool = False) -> Task:
    """A task of order O1 holding `parts` (order line, material, qty)."""
    lines: dict[str, int] = {}
    for _, m, q in parts:
        lines[m] = lines.get(m, 0) + q
    return Task.new(
        task_id, "O1", node, f"O1:1:{node}", [Line(m, q) for m, q in lines.items()],
        pickup_code="123456" if pickup else None, now=NOW,
        order_lines=[LinePart(lid, m, q) for lid, m, q in parts],
    )  # fmt: skip


def parts(t: Task) -> list[tuple[str, str, int]]:
    return [(p.line_id, p.material_code, p.qty) for p in t.order_lines]


def test_take_off_lowers_the_order_line_and_its_material_line_together():
    t = task("T1", "WH1", [("L1", "A", 2), ("L2", "A", 1), ("L3", "B", 1)])
    assert t.take_off("L1", 1) == 1
    assert parts(t) == [("L1", "A", 1), ("L2", "A", 1), ("L3", "B", 1)]
    assert t.lines == (Line("A", 2), Line("B", 1)) and t.changed
    assert t.take_off("L3", 5) == 1  # only what the task holds of the line
    assert parts(t) == [("L1", "A", 1), ("L2", "A", 1)] and t.lines == (Line("A", 2),)
    assert t.take_off("L9", 1) == 0 and not t.empty


def test_a_task_that_left_gives_nothing_up():
    t = task("T1", "WH1", [("L1", "A", 1)])
    t.accept("s1", NOW)
    t.ship("SF", "SF1", NOW)
    assert t.take_off("L1", 1) == 0 and parts(t) == [("L1", "A", 1)]


def test_part_of_a_task_is_held_back_and_the_task_ships_the_rest():
    t = task("T1", "WH1", [("L1", "A", 1), ("L2", "B", 2)])
    got = intercept([t], [Refunded("L2", "B", 1)], NOW, shipping_lines={"L1", "L2"})
    assert got.held == (Held("L2", "B", 1, "T1", "WH1", "O1:1:WH1", task_cancelled=False),)
    assert got.gone == () and got.cancelled == ()
    assert t.status is TaskStatus.ASSIGNED and parts(t) == [("L1", "A", 1), ("L2", "B", 1)]


def test_a_task_left_with_nothing_is_cancelled_and_the_other_is_untouched():
    keep = task("T1", "WH1", [("L1", "A", 1)])
    drop = task("T2", "WH2", [("L2", "B", 2)])
    drop.accept("s1", NOW)  # an accepted task can be intercepted too
    got = intercept([keep, drop], [Refunded("L2", "B", 2)], NOW, shipping_lines={"L1", "L2"})
    assert got.held == (Held("L2", "B", 2, "T2", "WH2", "O1:1:WH2", task_cancelled=True),)
    assert got.cancelled == ("T2",)
    assert (drop.status, drop.cancelled_at, drop.empty) == (TaskStatus.CANCELLED, NOW, True)
    assert keep.status is TaskStatus.ASSIGNED and not keep.changed


def test_units_whose_task_left_are_not_intercepted_with_where_they_went():
    gone = task("T1", "WH1", [("L1", "A", 1)])
    gone.accept("s1", NOW)
    gone.ship("SF", "SF1", NOW)
    picked = task("T2", "ST1", [("L2", "B", 1)], pickup=True)
    picked.accept("s2", NOW)
    picked.ready(NOW)
    picked.pickup("123456", NOW)
    got = intercept([gone, picked], [Refunded("L1", "A", 1), Refunded("L2", "B", 1)], NOW,
                    shipping_lines={"L1", "L2"})  # fmt: skip
    assert got.held == ()
    assert got.gone == (
        Gone("L1", "A", 1, "already left: shipped from WH1 (task T1)"),
        Gone("L2", "B", 1, "already left: picked up at ST1 (task T2)"),
    )


def test_a_line_split_over_tasks_gives_from_the_open_ones_assigned_first():
    """L1 has 4 units: 1 shipped from WH1, 2 on an accepted task at WH2, 1 on an assigned one at WH3. A
    refund of 4 takes the assigned unit, then the accepted two; the shipped one is gone."""
    shipped = task("T1", "WH1", [("L1", "A", 1)])
    shipped.accept("s", NOW)
    shipped.ship("SF", "SF1", NOW)
    accepted = task("T2", "WH2", [("L1", "A", 2), ("L2", "B", 1)])
    accepted.accept("s", NOW)
    assigned = task("T3", "WH3", [("L1", "A", 1)])
    got = intercept([shipped, accepted, assigned], [Refunded("L1", "A", 4)], NOW, shipping_lines={"L1", "L2"})
    assert [(h.task_id, h.qty, h.task_cancelled) for h in got.held] == [("T3", 1, True), ("T2", 2, False)]
    assert got.gone == (Gone("L1", "A", 1, "already left: shipped from WH1 (task T1)"),)
    assert parts(accepted) == [("L2", "B", 1)] and accepted.status is TaskStatus.ACCEPTED


def test_a_line_that_does_not_ship_or_is_no_longer_on_a_task_says_so():
    t = task("T1", "WH1", [("L1", "A", 1)])
    got = intercept([t], [Refunded("L1", "A", 1)], NOW, shipping_lines={"L1", "L2"})
    assert got.cancelled == ("T1",)
    again = intercept([t], [Refunded("L1", "A", 1), Refunded("L9", "V", 1)], NOW, shipping_lines={"L1", "L2"})
    assert [g.why for g in again.gone] == [
        "no open task holds it any more (taken off by an earlier refund, or its task was cancelled)",
        "the line does not ship (a virtual or service line): nothing to hold back",
    ]
    nothing_ships = intercept([], [Refunded("L1", "V", 1)], NOW)
    assert nothing_ships.gone[0].why.startswith("the line does not ship")


def test_a_task_made_before_line_ids_were_kept_cannot_be_matched():
    old = Task.new("T1", "O1", "WH1", "O1:1:WH1", [Line("A", 1)], pickup_code=None, now=NOW)
    got = intercept([old], [Refunded("L1", "A", 1)], NOW)
    assert got.held == () and "made before line ids were kept" in got.gone[0].why
    assert old.lines == (Line("A", 1),) and not old.changed
