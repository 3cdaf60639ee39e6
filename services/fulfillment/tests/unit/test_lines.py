"""Which order lines a task's units fulfil: the split decided at allocation. Pure."""

from __future__ import annotations

from omni_fulfillment.domain.lines import LinePart, OrderLine, split_by_group, split_by_order_line
from omni_fulfillment.domain.sourcing import Line


def test_order_lines_of_one_material_are_used_up_in_order_over_the_tasks():
    order = [OrderLine("L1", "A", 2), OrderLine("L2", "B", 1), OrderLine("L3", "A", 3)]
    got = split_by_order_line(order, [[Line("A", 4), Line("B", 1)], [Line("A", 1)]])
    assert got == [
        (LinePart("L1", "A", 2), LinePart("L3", "A", 2), LinePart("L2", "B", 1)),
        (LinePart("L3", "A", 1),),
    ]


def test_one_order_line_split_over_three_tasks():
    got = split_by_order_line([OrderLine("L1", "A", 5)], [[Line("A", 2)], [Line("A", 2)], [Line("A", 1)]])
    assert got == [(LinePart("L1", "A", 2),), (LinePart("L1", "A", 2),), (LinePart("L1", "A", 1),)]


def test_without_order_lines_or_when_they_do_not_cover_a_task_it_names_none():
    assert split_by_order_line([], [[Line("A", 1)]]) == [()]
    got = split_by_order_line([OrderLine("L1", "A", 1)], [[Line("A", 1)], [Line("A", 1), Line("C", 1)]])
    assert got == [(LinePart("L1", "A", 1),), ()]


def test_split_by_type_a_groups_task_fulfils_only_that_groups_order_lines():
    # A in the main group (L1) and in the presale group (L3): each task takes its own group's line, even
    # though the presale task comes first.
    order = [
        OrderLine("L1", "A", 2),
        OrderLine("L2", "C", 1, "cold_chain"),
        OrderLine("L3", "A", 1, "presale"),
    ]
    got = split_by_group(
        order, [("presale", [Line("A", 1)]), (None, [Line("A", 2)]), ("cold_chain", [Line("C", 1)])]
    )
    assert got == [(LinePart("L3", "A", 1),), (LinePart("L1", "A", 2),), (LinePart("L2", "C", 1),)]
    assert split_by_group([], [(None, [Line("A", 1)]), ("frozen", [Line("B", 1)])]) == [(), ()]
