"""The Odoo POS reader (domain/pos.py): the reference example to the fen per line after the discount line is
re-allocated, the Odoo 12 and 16 forms, a till return, and bad input, each refused naming the field."""

from __future__ import annotations

import copy
import json
import re
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from pos_samples import V16, till_return, v12

from omni_channel.domain import pos
from omni_channel.domain.tmall_fields import parse_json


def read(order: dict[str, Any]) -> pos.PosOrder | pos.OrderProblems:
    """As the intake reads it: through the JSON text (numbers as Decimal)."""
    text = json.dumps([order], ensure_ascii=False, default=lambda d: f"@@{d}@@")  # a Decimal as its digits
    doc = parse_json(re.sub(r'"@@(.*?)@@"', r"\1", text).encode())
    return pos.read_order(doc[0], "orders[0]")


def ok(order: dict[str, Any]) -> pos.PosOrder:
    got = read(order)
    assert isinstance(got, pos.PosOrder), got
    return got


def problems(order: dict[str, Any]) -> dict[str, str]:
    got = read(order)
    assert isinstance(got, pos.OrderProblems), got
    return {p.path: p.message for p in got.problems}


def test_reference_example_reallocates_the_discount_line_to_the_fen():
    o = ok(V16)
    assert (o.uid, o.name, o.session_id, o.is_return) == (
        "00012-003-0045",
        "Order 00012-003-0045",
        "12",
        False,
    )
    assert o.occurred_at == datetime(2025, 6, 12, 2, 15, 30, tzinfo=UTC)
    # 10000 fen off over 309900 : 29700 -> 9125.44 / 874.56: the leftover fen goes to the larger remainder
    assert [
        (x.line_id, x.product_id, x.default_code, x.qty, x.charged_cents, x.paid_cents) for x in o.lines
    ] == [
        ("1", "501", "SET-COFFEE-PRO", 1, 309900, 300775),
        ("2", "502", "BEAN-ETH-500", 3, 29700, 28825),
    ]
    assert sum(x.paid_cents for x in o.lines) == o.total_cents == 329600
    assert (o.tax_cents, o.change_cents) == (37919, 0)
    assert o.payments == (pos.PosPayment("payment_method_id:2", 329600, "4200002614202506121234567890"),)


def test_odoo_12_creation_date_journal_tender_and_change():
    o = ok(v12())
    assert o.occurred_at == datetime(2025, 6, 12, 2, 15, 30, tzinfo=UTC)
    assert [x.default_code for x in o.lines] == [None, None]  # no full_product_name before v13
    assert [x.paid_cents for x in o.lines] == [300775, 28825]
    assert o.payments == (pos.PosPayment("journal_id:5", 330000, ""),)
    assert (o.total_cents, o.change_cents) == (329600, 400)


def test_float_noise_rounds_to_the_fen():
    o = copy.deepcopy(V16)
    o["data"]["amount_tax"] = 379.19000000000005
    o["data"]["lines"][1][2]["price_subtotal_incl"] = 296.99999999999994
    assert ok(o).tax_cents == 37919 and ok(o).lines[1].charged_cents == 29700


def test_a_till_return_reads_as_positive_quantities_and_amounts():
    o = ok(till_return())
    assert o.is_return
    assert [(x.product_id, x.qty, x.paid_cents, x.refunded_line_ref) for x in o.lines] == [
        ("502", 2, 19800, "4411")
    ]
    assert (o.total_cents, o.tax_cents) == (19800, 2278)
    assert o.payments == (pos.PosPayment("payment_method_id:2", 19800, ""),)


def test_a_return_with_its_discount_line_refunded_reallocates_it_too():
    o = copy.deepcopy(V16)
    d = o["data"]
    for _, _, line in d["lines"]:
        line["qty"], line["price_subtotal_incl"] = -line["qty"], -line["price_subtotal_incl"]
    for k in ("amount_total", "amount_tax", "amount_paid"):
        d[k] = -d[k]
    d["statement_ids"][0][2]["amount"] = -3296.0
    got = ok(o)
    assert got.is_return and [x.paid_cents for x in got.lines] == [300775, 28825]


def test_a_line_discount_percentage_is_in_the_charged_amount():
    o = copy.deepcopy(V16)
    line = o["data"]["lines"][1][2]
    line["discount"], line["price_subtotal_incl"] = 10, 267.3  # 3 × 99 less 10 %
    for k in ("amount_total", "amount_paid"):
        o["data"][k] = 3266.3
    o["data"]["statement_ids"][0][2]["amount"] = 3266.3
    got = ok(o)
    assert [x.charged_cents for x in got.lines] == [309900, 26730]
    assert sum(x.paid_cents for x in got.lines) == 326630


@pytest.mark.parametrize(
    ("change", "path", "fragment"),
    [
        (
            lambda d: d["lines"][0][2].update(price_subtotal_incl="3099.00"),
            "lines[0][2].price_subtotal_incl",
            "JSON number",
        ),
        (
            lambda d: d["lines"][0][2].update(price_unit=3099.004),
            "lines[0][2].price_unit",
            "more than 2 decimals",
        ),
        (lambda d: d["lines"][1][2].update(qty=1.5), "lines[1][2].qty", "whole number"),
        (lambda d: d["lines"][1][2].update(qty=0), "lines[1][2].qty", "must not be 0"),
        (lambda d: d["lines"][1][2].update(qty=Decimal("1E+999999")), "lines[1][2].qty", "whole number"),
        (lambda d: d.update(amount_total=Decimal("1E+999999")), "amount_total", "not a usable amount"),
        (lambda d: d["lines"][1][2].update(discount=150), "lines[1][2].discount", "percentage"),
        (lambda d: d["lines"][0][2].pop("product_id"), "lines[0][2].product_id", "id the till gave"),
        (lambda d: d["lines"].__setitem__(0, {"qty": 1}), "lines[0]", "ORM create command"),
        (lambda d: d.pop("date_order"), "date_order", "date_order (v13+) or creation_date"),
        (lambda d: d.update(date_order="12/06/2025"), "date_order", "UTC time"),
        (lambda d: d.update(amount_total=3297.0), "amount_total", "lines add up to 329600"),
        (lambda d: d.update(amount_tax=4000.0), "amount_tax", "between 0 and the total"),
        (lambda d: d.update(amount_paid=3000.0), "amount_paid", "fully paid"),
        (lambda d: d["statement_ids"][0][2].update(amount=3000.0), "statement_ids", "are not the total"),
        (lambda d: d["statement_ids"][0][2].pop("payment_method_id"), "statement_ids[0][2].journal_id", "id"),
        (
            lambda d: d["lines"][1][2].update(qty=-3, price_subtotal_incl=-297.0),
            "lines[1][2].qty",
            "exchange",
        ),
        (lambda d: d["lines"][2][2].update(price_subtotal_incl=-4000.0), "lines", "take off more than"),
        (lambda d: d.update(uid="a b"), "uid", "till's order id"),
        (lambda d: d.update(lines=[]), "lines", "no goods line"),
    ],
)
def test_bad_input_names_the_field(change, path, fragment):
    o = copy.deepcopy(V16)
    change(o["data"])
    found = problems(o)
    assert f"orders[0].data.{path}" in found, found
    assert fragment in found[f"orders[0].data.{path}"]


def test_the_id_must_be_the_uid():
    o = copy.deepcopy(V16)
    o["id"] = "00012-003-0046"
    assert "uid" in problems(o)["orders[0].data.id"]


def test_not_an_order_list():
    assert pos.orders_of({"x": 1})[1][0].path == "orders"
    assert "empty" in pos.orders_of([])[1][0].message
    assert pos.orders_of({"orders": [V16]}) == ([V16], [])
    assert isinstance(pos.read_order("nope", "orders[3]"), pos.OrderProblems)
