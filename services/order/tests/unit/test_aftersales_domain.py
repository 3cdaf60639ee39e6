"""After-sales domain: each kind's state machine, platform statuses, and the money split to the fen."""

from __future__ import annotations

import pytest

from omni_order.domain import aftersales as d
from omni_order.domain.aftersales import Kind, State

LINES = [  # a bundle line (oid-1: two materials) and a single line of 3 units (oid-2)
    d.MaterialLine("O-001", "oid-1", "MACHINE", 1, 200_01),
    d.MaterialLine("O-002", "oid-1", "GRINDER", 1, 100_00),
    d.MaterialLine("O-003", "oid-2", "BEANS", 3, 100),
]
QTY = {"oid-1": 1, "oid-2": 3}


def test_refund_only_picks_its_kind_by_whether_the_order_has_shipped():
    assert d.kind_of("refund_only", shipped=False) is Kind.REFUND_BEFORE_SHIPMENT
    assert d.kind_of("refund_only", shipped=True) is Kind.REFUND_AFTER_SHIPMENT
    assert d.kind_of("return_and_refund", shipped=True) is Kind.RETURN_AND_REFUND
    assert d.kind_of("exchange", shipped=True) is Kind.EXCHANGE


def test_a_status_already_passed_or_repeated_changes_nothing():
    k = Kind.RETURN_AND_REFUND
    assert d.platform_target(k, State.REQUESTED, "awaiting_return") is State.AWAITING_RETURN
    assert d.platform_target(k, State.AWAITING_RETURN, "agreed") is None  # late
    assert d.platform_target(k, State.AWAITING_RETURN, "awaiting_return") is None  # repeat
    assert d.platform_target(k, State.RECEIVED, "refunded") is State.COMPLETED  # inspected, then refunded
    assert d.platform_target(k, State.REQUESTED, "unknown") is None
    assert d.platform_target(Kind.REFUND_AFTER_SHIPMENT, State.REFUNDED, "closed") is None  # final
    assert d.platform_target(Kind.EXCHANGE, State.AGREED, "refunded") is None  # not an exchange's


def test_each_kind_has_its_own_machine():
    assert d.can_move(Kind.REFUND_BEFORE_SHIPMENT, State.REQUESTED, State.REFUNDED)
    assert not d.can_move(Kind.REFUND_BEFORE_SHIPMENT, State.REQUESTED, State.AWAITING_RETURN)
    assert d.can_move(Kind.EXCHANGE, State.RECEIVED, State.EXCHANGED)
    assert not d.can_move(Kind.RETURN_AND_REFUND, State.RECEIVED, State.EXCHANGED)
    assert d.can_receive(Kind.RETURN_AND_REFUND, State.REFUNDED)  # money first, goods after
    assert not d.can_receive(Kind.REFUND_AFTER_SHIPMENT, State.AGREED)  # nothing comes back
    assert d.after_receipt(Kind.RETURN_AND_REFUND, State.REFUNDED) is State.COMPLETED
    with pytest.raises(d.IllegalCaseTransition, match=r"repair\) in completed cannot become received"):
        d.check_move(Kind.REPAIR, State.COMPLETED, State.RECEIVED, "AS1")


def test_a_bundle_line_refund_is_split_over_its_materials_by_amount_to_the_fen():
    (a, b) = d.split_refund(LINES, QTY, [d.RefundRequest("oid-1", None, 100_00)], "r")
    assert (a.line_id, a.qty, b.line_id, b.qty) == ("O-001", 1, "O-002", 1)
    assert a.refund_cents + b.refund_cents == 100_00
    assert (a.refund_cents, b.refund_cents) == (6_667, 3_333)  # 200.01 : 100.00, largest remainder


def test_a_partial_quantity_refunds_that_share_of_the_units():
    (x,) = d.split_refund(LINES, QTY, [d.RefundRequest("oid-2", 2, 67)], "r")
    assert (x.line_id, x.qty, x.refund_cents) == ("O-003", 2, 67)


def test_what_earlier_refunds_took_is_not_refunded_again():
    taken = [*LINES[:2], d.MaterialLine("O-003", "oid-2", "BEANS", 3, 100, refunded_cents=60, refunded_qty=2)]
    with pytest.raises(d.AfterSalesError, match="refunds 41 fen, only 40 are left on it"):
        d.split_refund(taken, QTY, [d.RefundRequest("oid-2", 1, 41)], "tmall refund R1")


def test_every_problem_of_a_refund_is_named():
    with pytest.raises(d.AfterSalesError) as err:
        d.split_refund(LINES, QTY, [d.RefundRequest("oid-9", 1, 1), d.RefundRequest("oid-2", 4, 1)], "r")
    assert "no order line 'oid-9'" in str(err.value) and "refunds 4 units of 3 ordered" in str(err.value)


def test_a_refund_naming_no_line_spreads_over_every_line():
    split = d.whole_order(LINES, 300_01 + 100)
    assert [x.refund_cents for x in split] == [200_01, 100_00, 100] and [x.qty for x in split] == [1, 1, 3]
    assert d.whole_order_refunded(LINES, split)
    half = d.whole_order(LINES, 1000)
    assert sum(x.refund_cents for x in half) == 1000 and all(x.qty == 0 for x in half)
    assert not d.whole_order_refunded(LINES, half)


def test_money_beyond_the_lines_is_freight_and_never_more_than_is_left():
    split = d.split_refund(LINES, QTY, [d.RefundRequest("oid-2", 3, 100)], "r")
    assert d.money_of(100 + 800, split, 1000, "r") == d.Money(100, 800)
    with pytest.raises(d.AfterSalesError, match="only 500 of freight"):
        d.money_of(100 + 800, split, 500, "r")
    with pytest.raises(d.AfterSalesError, match="the lines refund 100 fen but the refund is only 99"):
        d.money_of(99, split, 0, "r")


def test_split_gives_zero_weights_nothing_and_sums_exactly():
    assert d.split(10, [0, 1, 2]) == [0, 3, 7]
    assert d.split(5, [0, 0]) == [3, 2]
    assert d.split(0, [1, 2]) == [0, 0]


def test_an_inspection_names_only_expected_lines_and_units():
    d.check_inspection({"L1": 2}, [d.Inspected("L1", 1, 1)], "c")
    with pytest.raises(d.AfterSalesError) as err:
        d.check_inspection({"L1": 2}, [d.Inspected("L1", 2, 1), d.Inspected("L9", 1, 0)], "c")
    assert "receives 3 units, 2 were expected" in str(err.value) and "L9 is not part" in str(err.value)
