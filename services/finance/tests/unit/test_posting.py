"""Posting rules and double entry: pure, no I/O."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime
from uuid import uuid4

import pytest

from omni_contracts.bundles import Component, allocate, decompose
from omni_contracts.events.order import OrderAcceptedV1, OrderLine, ShipTo
from omni_finance.domain.accounts import CHART
from omni_finance.domain.posting import (
    CancelOutcome,
    InconsistentOrder,
    OrderStatus,
    ShipmentRejected,
    Shipped,
    Source,
    accept,
    cancel,
    ship,
    units_amount,
)
from omni_finance.domain.vouchers import InvalidVoucher, Line, Voucher, VoucherKind, voucher_id_for
from omni_finance.service import voucher_posted

NOW = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)

# "3 origins coffee beans x automatic coffee machine": one set, price weights 1:1:1:7, paid 1,299.00 + 10.00
COFFEE_SET = [
    Component("BEAN-YIRGA", 1, 1),
    Component("BEAN-HUILA", 1, 1),
    Component("BEAN-MANDHELING", 1, 1),
    Component("MACHINE-AUTO", 1, 7),
]


def src(event_type: str = "order.accepted") -> Source:
    return Source(uuid4(), event_type)


def coffee_order(
    order_id: str = "O-1", post_fee: int = 1000, set_qty: int = 2, set_paid: int = 259_801
) -> OrderAcceptedV1:
    material_lines = decompose(COFFEE_SET, set_qty, set_paid)
    lines = [
        OrderLine(
            line_id=f"L{i}",
            channel_line_id="C1",
            sales_product_code="SET-COFFEE",
            material_code=m.material_code,
            qty=m.qty,
            amount_cents=m.amount_cents,
        )
        for i, m in enumerate(material_lines, 1)
    ]
    lines.append(
        OrderLine(
            line_id="L9",
            channel_line_id="C2",
            sales_product_code="FILTER",
            material_code="FILTER-100",
            qty=3,
            amount_cents=1_000,
        )
    )
    goods = sum(x.amount_cents for x in lines)
    return OrderAcceptedV1(
        order_id=order_id,
        channel="tmall",
        shop_id="S1",
        channel_order_id="T-123",
        ship_to=ShipTo(name="someone"),
        lines=lines,
        goods_paid_cents=goods,
        post_fee_cents=post_fee,
        paid_cents=goods + post_fee,
    )


def units(pairs: list[tuple[str, int]]) -> list[Shipped]:
    """Shipped lines without line ids (as a v1 event carries them): matched to order lines by material."""
    return [Shipped(m, q) for m, q in pairs]


def sides(v: Voucher) -> list[tuple[str, int, int]]:
    return [(x.account_code, x.debit_cents, x.credit_cents) for x in v.lines]


# -- order.accepted ----------------------------------------------------------------------------------------
def test_coffee_bundle_sale_debits_the_platform_and_defers_goods_and_freight():
    data = coffee_order()
    source = src()
    order, v = accept(data, source, NOW)
    assert v is not None
    assert v.kind is VoucherKind.SALE
    assert sides(v) == [("1122", 261_801, 0), ("2205", 0, 260_801), ("2206", 0, 1000)]
    assert v.total_cents == data.paid_cents == 261_801
    assert v.voucher_id == voucher_id_for(source.event_id, VoucherKind.SALE)
    assert order.sale_voucher_id == v.voucher_id and order.sale_lines == v.lines
    assert [x.material_code for x in order.lines] == [c.material_code for c in COFFEE_SET] + ["FILTER-100"]
    assert sum(x.amount_cents for x in order.lines) == data.goods_paid_cents


def test_sale_without_freight_omits_the_zero_freight_line():
    _, v = accept(coffee_order(post_fee=0), src(), NOW)
    assert [x.account_code for x in v.lines] == ["1122", "2205"]


def test_nothing_paid_posts_no_voucher():
    data = coffee_order(post_fee=0, set_paid=0)
    data = data.model_copy(
        update={
            "lines": [x.model_copy(update={"amount_cents": 0}) for x in data.lines],
            "goods_paid_cents": 0,
            "paid_cents": 0,
        }
    )
    order, v = accept(data, src(), NOW)
    assert v is None and order.sale_voucher_id is None


def test_amounts_that_do_not_add_up_are_refused():
    data = coffee_order()
    with pytest.raises(InconsistentOrder, match="line amounts add up"):
        accept(data.model_copy(update={"goods_paid_cents": data.goods_paid_cents + 1}), src(), NOW)
    with pytest.raises(InconsistentOrder, match="!= paid"):
        accept(data.model_copy(update={"paid_cents": data.paid_cents - 1}), src(), NOW)


# -- goods left ----------------------------------------------------------------------------------------------
def test_full_shipment_recognises_all_goods_and_the_freight():
    data = coffee_order()
    order, _ = accept(data, src(), NOW)
    everything = [(x.material_code, x.qty) for x in data.lines]
    result = ship(order, units(everything), src("fulfillment.shipped"), NOW)
    assert result.goods_cents == data.goods_paid_cents and result.freight_cents == 1000
    assert sides(result.voucher) == [
        ("2205", data.goods_paid_cents, 0),
        ("2206", 1000, 0),
        ("6001", 0, data.goods_paid_cents),
        ("6051", 0, 1000),
    ]
    assert order.status is OrderStatus.SHIPPING
    assert all(x.shipped_qty == x.qty and x.recognized_cents == x.amount_cents for x in order.lines)


def test_freight_comes_with_the_first_shipment_only():
    data = coffee_order()
    order, _ = accept(data, src(), NOW)
    first = ship(order, units([("MACHINE-AUTO", 2)]), src("fulfillment.shipped"), NOW)
    second = ship(order, units([("BEAN-YIRGA", 2)]), src("fulfillment.picked-up"), NOW)
    assert first.freight_cents == 1000 and second.freight_cents == 0
    assert [x.account_code for x in second.voucher.lines] == ["2205", "6001"]


def test_partial_shipments_of_a_line_add_up_to_its_amount_exactly():
    data = coffee_order()
    order, _ = accept(data, src(), NOW)
    filt = next(x for x in order.lines if x.material_code == "FILTER-100")  # 3 units for 1,000 cents
    got = [
        ship(order, units([("FILTER-100", 1)]), src("fulfillment.shipped"), NOW).goods_cents for _ in range(3)
    ]
    assert got == [334, 333, 333]
    assert filt.recognized_cents == 1000 and filt.shipped_qty == 3
    with pytest.raises(ShipmentRejected, match="only 0 of the 3 ordered are still open"):
        ship(order, units([("FILTER-100", 1)]), src("fulfillment.shipped"), NOW)


@pytest.mark.parametrize("amount,qty", [(1000, 3), (1, 7), (0, 2), (259_801, 6), (99_999, 13), (5, 5)])
def test_any_split_of_a_line_into_shipments_sums_to_its_amount(amount, qty):
    rnd = random.Random(amount * 31 + qty)
    per_unit = allocate(amount, [1] * qty) if amount else [0] * qty
    for _ in range(30):
        cuts = sorted(rnd.sample(range(1, qty), rnd.randint(0, qty - 1))) if qty > 1 else []
        parts = [b - a for a, b in itertools.pairwise([0, *cuts, qty])]
        order, _ = accept(_one_line_order(amount, qty), src(), NOW)
        got, start = [], 0
        for k in parts:
            got.append(ship(order, units([("M", k)]), src("fulfillment.shipped"), NOW).goods_cents)
            # each shipment gets exactly the largest-remainder share of its units
            assert got[-1] == sum(per_unit[start : start + k]) == units_amount(amount, qty, start, k)
            start += k
        assert sum(got) == amount


def _one_line_order(amount: int, qty: int) -> OrderAcceptedV1:
    return OrderAcceptedV1(
        order_id="O-L",
        channel="jd",
        shop_id="S",
        channel_order_id="J1",
        ship_to=ShipTo(),
        lines=[
            OrderLine(
                line_id="L1",
                channel_line_id="c",
                sales_product_code="P",
                material_code="M",
                qty=qty,
                amount_cents=amount,
            )
        ],
        goods_paid_cents=amount,
        paid_cents=amount,
    )


def test_a_material_on_two_lines_fills_them_in_line_order():
    data = _one_line_order(900, 3)
    data = data.model_copy(
        update={
            "lines": [
                *data.lines,
                data.lines[0].model_copy(update={"line_id": "L2", "qty": 2, "amount_cents": 100}),
            ],
            "goods_paid_cents": 1000,
            "paid_cents": 1000,
        }
    )
    order, _ = accept(data, src(), NOW)
    result = ship(order, units([("M", 4)]), src("fulfillment.shipped"), NOW)
    assert result.allocations == ((1, 3, 900), (2, 1, 50))
    assert result.goods_cents == 950


def _two_lines_of_one_material():
    data = _one_line_order(900, 3)
    return data.model_copy(
        update={
            "lines": [
                *data.lines,
                data.lines[0].model_copy(update={"line_id": "L2", "qty": 2, "amount_cents": 100}),
            ],
            "goods_paid_cents": 1000,
            "paid_cents": 1000,
        }
    )


def test_a_shipped_line_that_names_its_order_line_is_booked_on_that_line():
    order, _ = accept(_two_lines_of_one_material(), src(), NOW)
    line_ids = [x.line_id for x in order.lines]
    # v2: the units fulfil the second line, although matching by material would have filled the first
    result = ship(order, [Shipped("M", 2, line_ids[1])], src("fulfillment.shipped"), NOW)
    assert result.allocations == ((2, 2, 100),)
    assert [(x.shipped_qty, x.recognized_cents) for x in order.lines] == [(0, 0), (2, 100)]
    # a v1 line (no id) in a later shipment falls back to matching what is still open, in line order
    later = ship(order, [Shipped("M", 3)], src("fulfillment.shipped"), NOW)
    assert later.allocations == ((1, 3, 900),)


def test_line_ids_and_material_matching_in_one_shipment_do_not_book_a_unit_twice():
    order, _ = accept(_two_lines_of_one_material(), src(), NOW)
    first = order.lines[0].line_id
    with pytest.raises(ShipmentRejected, match="5 of material M shipped but only 2"):
        ship(order, [Shipped("M", 3, first), Shipped("M", 5)], src("fulfillment.shipped"), NOW)
    result = ship(order, [Shipped("M", 2, first), Shipped("M", 3)], src("fulfillment.shipped"), NOW)
    assert result.allocations == ((1, 2, 600), (1, 1, 300), (2, 2, 100))
    assert result.goods_cents == 1000


def test_a_shipped_line_id_that_does_not_fit_its_order_is_rejected_and_changes_nothing():
    order, _ = accept(_two_lines_of_one_material(), src(), NOW)
    first = order.lines[0].line_id
    with pytest.raises(ShipmentRejected, match="has no line L-NOPE"):
        ship(order, [Shipped("M", 1, "L-NOPE")], src("fulfillment.shipped"), NOW)
    with pytest.raises(ShipmentRejected, match=f"line {first} is material M, not X"):
        ship(order, [Shipped("X", 1, first)], src("fulfillment.shipped"), NOW)
    with pytest.raises(ShipmentRejected, match=f"4 shipped on line {first} but only 3"):
        ship(order, [Shipped("M", 4, first)], src("fulfillment.shipped"), NOW)
    assert [(x.shipped_qty, x.recognized_cents) for x in order.lines] == [(0, 0), (0, 0)]
    assert order.status is OrderStatus.ACCEPTED and not order.freight_recognized


def test_a_rejected_shipment_changes_nothing():
    data = coffee_order()
    order, _ = accept(data, src(), NOW)
    before = [(x.shipped_qty, x.recognized_cents) for x in order.lines]
    with pytest.raises(ShipmentRejected, match="no line of material NOPE"):
        ship(order, units([("MACHINE-AUTO", 1), ("NOPE", 1)]), src("fulfillment.shipped"), NOW)
    with pytest.raises(ShipmentRejected, match="3 of material MACHINE-AUTO shipped but only 2"):
        ship(order, units([("BEAN-HUILA", 1), ("MACHINE-AUTO", 3)]), src("fulfillment.shipped"), NOW)
    assert [(x.shipped_qty, x.recognized_cents) for x in order.lines] == before
    assert order.status is OrderStatus.ACCEPTED and not order.freight_recognized


# -- order.cancelled -----------------------------------------------------------------------------------------
def test_cancel_before_shipment_reverses_the_sale_voucher():
    order, sale = accept(coffee_order(), src(), NOW)
    outcome, rev = cancel(order, src("order.cancelled"), NOW, "buyer asked")
    assert outcome is CancelOutcome.REVERSED
    assert rev.kind is VoucherKind.REVERSAL and rev.reverses_voucher_id == sale.voucher_id
    assert sides(rev) == [(c, cr, dr) for c, dr, cr in sides(sale)]
    assert rev.total_cents == sale.total_cents
    assert order.status is OrderStatus.CANCELLED
    # the pair nets every account to zero
    net = {}
    for v in (sale, rev):
        for x in v.lines:
            net[x.account_code] = net.get(x.account_code, 0) + x.debit_cents - x.credit_cents
    assert set(net.values()) == {0}
    assert cancel(order, src("order.cancelled"), NOW) == (CancelOutcome.ALREADY_CANCELLED, None)
    with pytest.raises(ShipmentRejected, match="cancelled"):
        ship(order, units([("MACHINE-AUTO", 1)]), src("fulfillment.shipped"), NOW)


def test_cancel_after_a_shipment_posts_nothing():
    order, _ = accept(coffee_order(), src(), NOW)
    ship(order, units([("MACHINE-AUTO", 1)]), src("fulfillment.shipped"), NOW)
    outcome, v = cancel(order, src("order.cancelled"), NOW)
    assert (outcome, v) == (CancelOutcome.AFTER_SHIPMENT, None)
    assert order.status is OrderStatus.SHIPPING and order.cancelled_at == NOW


# -- double entry --------------------------------------------------------------------------------------------
def _voucher(lines):
    return Voucher.post(
        VoucherKind.SALE,
        order_id="O",
        source_event_id=uuid4(),
        source_event_type="order.accepted",
        summary="s",
        currency="CNY",
        posted_at=NOW,
        lines=lines,
    )


def test_an_unbalanced_voucher_cannot_be_built():
    with pytest.raises(InvalidVoucher, match="debits 100 != credits 99"):
        _voucher([Line.dr("1122", 100), Line.cr("2205", 99)])


def test_bad_lines_are_refused():
    with pytest.raises(InvalidVoucher, match="at least two lines"):
        _voucher([Line.dr("1122", 100)])
    with pytest.raises(InvalidVoucher, match="not in the chart"):
        Line.dr("9999", 1)
    with pytest.raises(InvalidVoucher, match="negative"):
        Line.dr("1122", -1)
    with pytest.raises(InvalidVoucher, match="either a debit or a credit"):
        Line("1122", 5, 5)
    with pytest.raises(InvalidVoucher, match="either a debit or a credit"):
        Line("1122", 0, 0)


def test_balanced_voucher_maps_to_the_contract_with_account_names():
    v = _voucher([Line.dr("1122", 300), Line.cr("2205", 200), Line.cr("2206", 100)])
    event = voucher_posted(v)
    assert event.voucher_id == str(v.voucher_id)
    assert [(x.account_code, x.account_name, x.debit_cents, x.credit_cents) for x in event.lines] == [
        ("1122", "应收账款-平台", 300, 0),
        ("2205", "合同负债", 0, 200),
        ("2206", "合同负债-运费", 0, 100),
    ]


def test_chart_balances_on_the_normal_side():
    assert CHART["1122"].balance(500, 200) == 300
    assert CHART["6001"].balance(0, 700) == 700
    assert {a.type.value for a in CHART.values()} <= {"asset", "liability", "revenue", "expense"}
