from __future__ import annotations

from omni_order.domain.intake import LineAllocation, LineRef, TaskLine, assign_nodes

LINES = [LineRef("L1", "BEAN", 2), LineRef("L2", "MACHINE", 1), LineRef("L3", "BEAN", 3)]


def test_one_node_ships_everything():
    tasks = [TaskLine("T1", "WH-HZ", "R1", "BEAN", 5), TaskLine("T1", "WH-HZ", "R1", "MACHINE", 1)]
    allocations, problems = assign_nodes(LINES, tasks)
    assert problems == []
    assert allocations == [
        LineAllocation("L1", "T1", "WH-HZ", "R1", 2),
        LineAllocation("L3", "T1", "WH-HZ", "R1", 3),
        LineAllocation("L2", "T1", "WH-HZ", "R1", 1),
    ]


def test_a_material_split_across_nodes():
    tasks = [
        TaskLine("T1", "WH-HZ", "R1", "BEAN", 4),
        TaskLine("T1", "WH-HZ", "R1", "MACHINE", 1),
        TaskLine("T2", "STORE-1", "R2", "BEAN", 1),
    ]
    allocations, problems = assign_nodes(LINES, tasks)
    assert problems == []
    by_line = {}
    for a in allocations:
        by_line.setdefault(a.line_id, []).append((a.node_code, a.qty))
    assert by_line == {"L1": [("WH-HZ", 2)], "L3": [("WH-HZ", 2), ("STORE-1", 1)], "L2": [("WH-HZ", 1)]}


def test_mismatches_are_reported():
    tasks = [TaskLine("T1", "WH-HZ", "R1", "BEAN", 6), TaskLine("T1", "WH-HZ", "R1", "CUP", 1)]
    _, problems = assign_nodes(LINES, tasks)
    assert problems == [
        "task T1 at WH-HZ holds 1 more BEAN than the order",
        "task T1 at WH-HZ holds 1 more CUP than the order",
        "line L2 (MACHINE): 1 of 1 not allocated",
    ]
