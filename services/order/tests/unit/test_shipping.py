"""Shipped units per order line: named by v2 events, matched by material for v1; split-order status."""

from __future__ import annotations

from omni_order.domain.intake import LineRef
from omni_order.domain.shipping import LineShipped, ShippedLine, shipped_per_line, shipping_status
from omni_order.domain.status import Status

LINES = [LineRef("L1", "A", 1), LineRef("L2", "B", 3), LineRef("L3", "B", 2)]


def test_named_lines_are_taken_as_said():
    got, problems = shipped_per_line("T1", [ShippedLine("L3", "B", 2), ShippedLine("L1", "A", 1)], LINES)
    assert got == [LineShipped("L3", 2, False), LineShipped("L1", 1, False)] and problems == []


def test_unnamed_lines_fill_the_tasks_allocation_in_line_order():
    allocated = [LineRef("L2", "B", 1), LineRef("L3", "B", 2)]  # the task holds 1 of L2 and 2 of L3
    got, problems = shipped_per_line("T2", [ShippedLine(None, "B", 3)], LINES, allocated)
    assert got == [LineShipped("L2", 1, True), LineShipped("L3", 2, True)] and problems == []


def test_without_an_allocation_the_order_lines_are_the_candidates():
    got, _ = shipped_per_line("T1", [ShippedLine(None, "B", 4)], LINES)
    assert got == [LineShipped("L2", 3, True), LineShipped("L3", 1, True)]


def test_what_cannot_be_placed_is_reported():
    got, problems = shipped_per_line("T1", [ShippedLine("L9", "A", 1), ShippedLine(None, "Z", 2)], LINES)
    assert got == [LineShipped("L1", 1, True)]
    assert problems == [
        "task T1 names line L9 for A, which the order does not have",
        "task T1 shipped 2 Z that no order line holds",
    ]


def test_a_line_named_with_another_material_is_not_trusted():
    got, problems = shipped_per_line("T1", [ShippedLine("L1", "B", 1)], LINES)
    assert got == [LineShipped("L2", 1, True)] and "names line L1 for B" in problems[0]


def test_a_split_order_is_shipped_when_every_task_has():
    assert shipping_status({"T1", "T2"}, {"T1"}) == Status.PARTIALLY_SHIPPED
    assert shipping_status({"T1", "T2"}, {"T2", "T1"}) == Status.SHIPPED
    assert shipping_status(set(), {"T1"}) == Status.SHIPPED  # tasks unknown: the first shipment ships it
