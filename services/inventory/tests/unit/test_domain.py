"""Inventory rules, pure: no database, no Kafka."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from omni_inventory.api import AdjustmentIn, ReceiptIn
from omni_inventory.domain.model import (
    AdjustmentRefused,
    InvalidRequest,
    Line,
    ReservationStatus,
    ShortLine,
    StockLevel,
    can_move,
    check_adjustment,
    consume_refusal,
    distinct_lines,
    normalize_lines,
    refusal_reason,
    shortfall,
)


def test_available_is_on_hand_minus_reserved_minus_frozen():
    assert StockLevel(10, 3, 2).available == 5
    assert StockLevel(10).available == 10
    assert StockLevel(5, 5, 0).available == 0


def test_level_problems_name_every_broken_invariant():
    assert StockLevel(10, 3, 2).problems() == []
    assert StockLevel(4, 3, 2).problems() == ["reserved 3 + frozen 2 exceed on hand 4"]
    assert "on_hand is negative (-1)" in StockLevel(-1).problems()
    assert "reserved is negative (-2)" in StockLevel(5, -2).problems()


def test_lines_are_merged_per_material_and_sorted_by_code():
    lines = normalize_lines([("B", 2), ("A", 1), ("B", 3)])
    assert lines == [Line("A", 1), Line("B", 5)]


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([], "at least one line"),
        ([("A", 0)], "line A: quantity must be positive, got 0"),
        ([("A", -3)], "got -3"),
        ([("", 1)], "empty material code"),
    ],
)
def test_bad_lines_are_refused_with_a_reason(lines, message):
    with pytest.raises(InvalidRequest, match=message):
        normalize_lines(lines)


def test_receipt_lines_must_not_repeat_a_material():
    assert distinct_lines([("B", 1), ("A", 2)]) == [Line("A", 2), Line("B", 1)]
    with pytest.raises(InvalidRequest, match="material A appears on more than one line"):
        distinct_lines([("A", 1), ("B", 1), ("A", 2)])
    with pytest.raises(InvalidRequest, match="exceeds"):
        distinct_lines([("A", 10**10)])


def test_shortfall_lists_every_line_with_what_the_node_has():
    lines = [Line("A", 2), Line("B", 5), Line("C", 1)]
    short = shortfall(lines, {"A": 7, "B": 3})
    assert short == [ShortLine("A", 2, 7), ShortLine("B", 5, 3), ShortLine("C", 1, 0)]
    assert [s.short for s in short] == [False, True, True]


def test_refusal_reason_names_the_short_lines_only():
    reason = refusal_reason("WH1", [ShortLine("A", 2, 7), ShortLine("B", 5, 3), ShortLine("C", 1, 0)])
    assert reason == "not enough stock at node WH1: B requested 5, available 3; C requested 1, available 0"


def test_refusal_reason_when_stock_came_back_since_the_attempt():
    reason = refusal_reason("WH1", [ShortLine("A", 2, 2)])
    assert "stock changed since" in reason and "WH1" in reason


def test_adjustment_keeps_on_hand_at_or_above_reserved_plus_frozen():
    level = StockLevel(10, 4, 2)
    assert check_adjustment("WH1", "A", level, -4) == StockLevel(6, 4, 2)
    assert check_adjustment("WH1", "A", level, 5) == StockLevel(15, 4, 2)
    with pytest.raises(AdjustmentRefused) as refused:
        check_adjustment("WH1", "A", level, -5)
    msg = str(refused.value)
    assert "on hand 10 would become 5, below reserved 4 + frozen 2" in msg
    assert "largest decrease allowed is 4" in msg


def test_adjustment_below_zero_on_unknown_stock_is_refused():
    with pytest.raises(AdjustmentRefused, match="on hand 0 would become -1"):
        check_adjustment("WH1", "A", StockLevel(0), -1)
    with pytest.raises(InvalidRequest, match="delta must not be 0"):
        check_adjustment("WH1", "A", StockLevel(3), 0)


def test_only_a_held_reservation_moves_on():
    held = ReservationStatus.RESERVED
    assert can_move(held, ReservationStatus.CONSUMED)
    assert can_move(held, ReservationStatus.RELEASED)
    for final in (ReservationStatus.REFUSED, ReservationStatus.RELEASED, ReservationStatus.CONSUMED):
        assert not any(can_move(final, to) for to in ReservationStatus)


def test_consume_refusal_says_why():
    assert "does not know" in consume_refusal("R1", None, "T1")
    assert "which is released, not reserved" in consume_refusal("R1", ReservationStatus.RELEASED, "T1")


# -- the edge's validation (request models) ---------------------------------------------------------------
def test_receipt_body_validation():
    ok = ReceiptIn(receipt_id="r1", node_code="WH1", lines=[{"material_code": "A", "qty": 3}])
    assert ok.note == ""
    for bad in (
        {"receipt_id": "r1", "node_code": "WH1", "lines": []},
        {"receipt_id": "r1", "node_code": "WH1", "lines": [{"material_code": "A", "qty": 0}]},
        {"receipt_id": "r1", "node_code": "WH1", "lines": [{"material_code": "A", "qty": 1.5}]},
        {"receipt_id": "r1", "node_code": "WH 1", "lines": [{"material_code": "A", "qty": 1}]},
        {"receipt_id": "", "node_code": "WH1", "lines": [{"material_code": "A", "qty": 1}]},
        {"receipt_id": "r1", "node_code": "WH1", "lines": [{"material_code": "A", "qty": 1}], "extra": 1},
    ):
        with pytest.raises(ValidationError):
            ReceiptIn(**bad)


def test_adjustment_body_validation():
    AdjustmentIn(adjustment_id="a1", node_code="WH1", material_code="A", delta=-2, reason="count")
    with pytest.raises(ValidationError):
        AdjustmentIn(adjustment_id="a1", node_code="WH1", material_code="A", delta=-2, reason="")
    with pytest.raises(ValidationError):
        AdjustmentIn(adjustment_id="a1", node_code="WH1", material_code="A", delta="2", reason="x")
