"""Gifts (domain/gifts.py): sets per order and per multiple, caps per order, per buyer and in total, stock
fallback to a substitute or a skip, and a trace entry for every gift asked."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from pydantic import ValidationError

from omni_order.domain.gifts import GiftCounts, plan_gifts
from omni_order.domain.rules.actions import AddGift


@dataclass(frozen=True)
class L:
    material_code: str
    qty: int
    sales_product_code: str = ""


MUG, CUP = "MUG", "CUP"


def gift(**kw) -> AddGift:
    return AddGift.model_validate({"type": "add_gift", "gift_id": "g1", "material_code": MUG} | kw)


def one(asked, lines=(L("BEANS", 1),), counts=GiftCounts(), stock=None):
    return plan_gifts(asked, list(lines), counts, {MUG: 100, CUP: 100} if stock is None else stock)


def test_one_set_by_default_with_zero_paid_in_mind():
    plan = one([("r1", gift(qty=2))])
    (g,) = plan.lines
    assert (g.gift_id, g.rule_id, g.material_code, g.qty, g.sets) == ("g1", "r1", MUG, 2, 1)
    (t,) = plan.trace
    assert (t.stage, t.subject, t.matched, t.effect) == ("gifts", "gift g1 (rule r1)", True, "gift 2 × MUG")


def test_buy_two_get_one_counts_units_of_the_named_skus_only():
    lines = [L("BEANS", 5), L("OTHER", 7)]
    plan = one([("r1", gift(per_units=2, for_skus=["BEANS"]))], lines)
    assert [(g.qty, g.sets) for g in plan.lines] == [(2, 2)]
    assert "5 units of BEANS, one set per 2: 2" in plan.trace[0].why
    too_few = one([("r1", gift(per_units=2, for_skus=["BEANS"]))], [L("BEANS", 1)])
    assert too_few.lines == [] and too_few.trace[0].effect == "skipped"


def test_sales_product_codes_count_too_and_an_empty_list_counts_every_line():
    lines = [L("M1", 2, "SET-A"), L("M2", 3)]
    assert one([("r", gift(per_units=1, for_skus=["SET-A"]))], lines).lines[0].sets == 2
    assert one([("r", gift(per_units=1))], lines).lines[0].sets == 5


def test_caps_per_order_per_buyer_and_in_total_in_that_order():
    g = gift(per_units=1, caps={"per_order": 4, "per_buyer": 6, "total": 100})
    assert one([("r", g)], [L("B", 10)]).lines[0].sets == 4
    plan = one([("r", g)], [L("B", 10)], GiftCounts(buyer={"g1": 3}))
    assert plan.lines[0].sets == 3 and "per buyer: 3 of 6 given, 3 left" in plan.trace[0].why
    plan = one([("r", g)], [L("B", 10)], GiftCounts(buyer={"g1": 0}, total={"g1": 99}))
    assert plan.lines[0].sets == 1 and "in total: 99 of 100 given, 1 left" in plan.trace[0].why
    spent = one([("r", g)], [L("B", 10)], GiftCounts(buyer={"g1": 6}))
    assert spent.lines == []
    assert (spent.trace[0].matched, spent.trace[0].effect) == (False, "skipped")
    assert "per buyer: 6 of 6 given, 0 left" in spent.trace[0].why


def test_out_of_stock_takes_the_first_substitute_with_enough_else_skips_with_the_reason():
    g = gift(qty=2, substitutes=["NONE-LEFT", CUP])
    plan = one([("r", g)], stock={MUG: 1, "NONE-LEFT": 0, CUP: 5})
    assert [(x.material_code, x.qty) for x in plan.lines] == [(CUP, 2)]
    why = plan.trace[0].why
    assert "MUG: 1 available, 2 needed" in why and "NONE-LEFT: 0 available" in why and "substitute CUP" in why
    none = one([("r", g)], stock={MUG: 1, "NONE-LEFT": 0, CUP: 1})
    assert none.lines == [] and none.trace[0].effect == "skipped: out of stock"


def test_stock_never_seen_adds_the_gift_and_says_sourcing_decides():
    plan = one([("r", gift())], stock={})
    assert plan.lines[0].material_code == MUG
    assert "no stock of MUG seen yet" in plan.trace[0].why


def test_the_same_gift_from_two_rules_is_given_once():
    plan = one([("r1", gift()), ("r2", gift(qty=5))])
    assert [(g.rule_id, g.qty) for g in plan.lines] == [("r1", 1)]
    assert [t.matched for t in plan.trace] == [True, False]
    assert "already given" in plan.trace[1].why


def test_a_multiple_needs_its_skus_counted_and_quantities_are_bounded():
    with pytest.raises(ValidationError, match="per_units"):
        gift(for_skus=["BEANS"])
    with pytest.raises(ValidationError):
        gift(qty=0)
    with pytest.raises(ValidationError):
        gift(caps={"per_buyer": 0})
