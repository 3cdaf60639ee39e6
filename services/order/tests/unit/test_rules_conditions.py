"""Each condition of the rule vocabulary, matched and not, with the sentence the trace shows."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from pydantic import TypeAdapter, ValidationError

from omni_order.domain.rules.conditions import Condition, Env, evaluate
from omni_order.domain.rules.facts import ChannelLineFacts, LineFacts, OrderFacts

COND = TypeAdapter(Condition)


def facts(**kw) -> OrderFacts:
    base = OrderFacts(
        channel="tmall",
        shop_id="TM-01",
        business_model="B2C",
        delivery="express",
        paid_cents=128_800,
        goods_paid_cents=128_000,
        lines=(
            LineFacts(
                "BEAN-250",
                "SP-BEAN",
                2,
                60_000,
                category="food/coffee/beans",
                tags=frozenset({"new"}),
                weight_g=250,
            ),
            LineFacts(
                "GRINDER",
                "SP-GRIND",
                1,
                68_000,
                category="kitchen/tools",
                handling="oversize",
                weight_g=1_800,
                high_value=True,
            ),
        ),
        created_at=datetime(2026, 12, 3, 14, 30, tzinfo=UTC),  # 22:30 in Shanghai
        channel_lines=(ChannelLineFacts("L1", 2, 60_000, 32_000), ChannelLineFacts("L2", 1, 68_000, 99_900)),
        buyer_nick="tb_buyer",
        buyer_message="请周末送货, 谢谢",
        state="浙江省",
        city="杭州市",
        district="西湖区",
    )
    return replace(base, **kw)


def check(cond: dict, f: OrderFacts | None = None, env: Env | None = None):
    return evaluate(COND.validate_python(cond), f or facts(), env or Env())


@pytest.mark.parametrize(
    ("cond", "matched"),
    [
        ({"type": "channel", "any_of": ["tmall", "jd"]}, True),
        ({"type": "channel", "any_of": ["jd"]}, False),
        ({"type": "shop", "any_of": ["tmall:TM-01"]}, True),
        ({"type": "shop", "any_of": ["jd:TM-01"]}, False),  # a shop id is unique only within its channel
        ({"type": "business_model", "any_of": ["O2O"]}, False),
        ({"type": "paid_amount", "min": 128_800}, True),  # min is inclusive
        ({"type": "paid_amount", "max": 128_800}, False),  # max is exclusive
        ({"type": "paid_amount", "min": 128_801}, False),  # one fen short: thresholds are fen, not yuan
        ({"type": "paid_amount", "of": "goods", "min": 128_000, "max": 128_001}, True),
        ({"type": "quantity", "min": 3}, True),
        ({"type": "quantity", "of": "lines", "max": 2}, False),
        ({"type": "weight", "min": 2_300}, True),  # 2 × 250 + 1 800
        ({"type": "weight", "min": 2_301}, False),
        ({"type": "sku", "codes": ["GRINDER"]}, True),
        ({"type": "sku", "codes": ["SP-BEAN"], "match": "any"}, True),  # a sales product code works too
        ({"type": "sku", "codes": ["GRINDER", "MUG"], "match": "all"}, False),
        ({"type": "sku", "codes": ["GRINDER"], "match": "only"}, False),
        ({"type": "sku", "codes": ["MUG"], "match": "none"}, True),
        ({"type": "category", "prefixes": ["food/coffee"]}, True),
        ({"type": "category", "prefixes": ["food/cof"]}, False),  # whole segments only
        ({"type": "category", "prefixes": ["food", "kitchen"], "match": "all"}, True),
        ({"type": "tag", "tags": ["new"]}, True),
        ({"type": "tag", "tags": ["new"], "match": "all"}, False),
        ({"type": "handling", "any_of": ["oversize"]}, True),
        ({"type": "handling", "any_of": ["cold_chain", "frozen"]}, False),
        ({"type": "buyer", "nicks": ["tb_buyer"]}, True),
        ({"type": "buyer", "merge_keys": ["oaid-1"]}, False),
        ({"type": "blacklisted"}, False),
        ({"type": "message", "contains": ["周末"]}, True),
        ({"type": "message", "field": "seller", "contains": ["周末"]}, False),
        ({"type": "message", "non_empty": True}, True),
        ({"type": "region", "cities": ["杭州市"]}, True),
        ({"type": "region", "states": ["上海市"]}, False),
        ({"type": "address"}, False),
        ({"type": "presale"}, False),
        ({"type": "presale", "stages": ["none"]}, True),
        ({"type": "invoice"}, False),
        ({"type": "order_time", "daily_from": "22:00", "daily_to": "06:00"}, True),  # across midnight
        ({"type": "order_time", "daily_from": "09:00", "daily_to": "18:00"}, False),
        ({"type": "order_time", "from": "2026-12-01T00:00:00Z", "to": "2026-12-04T00:00:00Z"}, True),
        ({"type": "order_time", "to": "2026-12-03T14:30:00Z"}, False),  # `to` is exclusive
        ({"type": "high_value"}, True),
        ({"type": "first_orders", "n": 1}, True),
        ({"type": "duplicate_suspected"}, False),
        ({"type": "price_below_floor", "floor_pct": 90}, True),  # L2 paid 680.00 of 999.00 list
        ({"type": "price_below_floor", "floor_pct": 60}, False),
    ],
)
def test_each_condition(cond, matched):
    v = check(cond)
    assert v.matched is matched, v.why
    assert v.why  # always a sentence for the trace


def test_the_trace_quotes_the_value_and_the_threshold():
    assert check({"type": "paid_amount", "min": 100_000}).why == "paid amount 1288.00 ≥ 1000.00"
    assert check({"type": "message", "contains": ["周末"]}).why == "the buyer message contains “周末”"


def test_message_words_are_literal_not_regular_expressions():
    """ONEX used memo keywords as unescaped regular expressions (catalogue §13 #5)."""
    f = facts(buyer_message="need a+b set")
    assert check({"type": "message", "contains": ["a+b"]}, f).matched
    assert not check({"type": "message", "contains": ["a+b"]}, facts(buyer_message="aab")).matched
    assert not check({"type": "message", "contains": ["."]}, facts(buyer_message="no dot here")).matched
    # a regular expression is asked for explicitly, and a broken one is refused at validation
    assert check({"type": "message", "pattern": r"a\+b"}, f).matched
    with pytest.raises(ValidationError, match="not a valid regular expression"):
        COND.validate_python({"type": "message", "pattern": "(unclosed"})


def test_money_thresholds_are_fen_and_never_floats():
    """ONEX's form accepted whole yuan only (§13 #5): here 0.01 yuan decides."""
    assert check({"type": "paid_amount", "min": 128_799}).matched
    for bad in (1287.5, "128800", True):
        with pytest.raises(ValidationError):
            COND.validate_python({"type": "paid_amount", "min": bad})


@pytest.mark.parametrize(
    "bad",
    [
        {"type": "paid_amount"},  # no bound
        {"type": "paid_amount", "min": 10, "max": 10},  # an empty range
        {"type": "paid_amount", "min": -1},
        {"type": "quantity", "min": 5, "max": 2},
        {"type": "paid_amount", "min": 1, "currency": "USD"},  # an option that would be silently ignored
        {"type": "colour", "any_of": ["red"]},  # an unknown field of the order
        {"type": "order_time", "daily_from": "09:00"},
        {"type": "order_time", "from": "2026-12-01T00:00:00Z", "timezone": "Mars/Olympus"},
        {"type": "shop", "any_of": ["TM-01"]},  # a shop without its channel
        {"type": "all", "of": []},
    ],
)
def test_malformed_conditions_are_refused(bad):
    with pytest.raises(ValidationError):
        COND.validate_python(bad)


def test_composition():
    big = {"type": "paid_amount", "min": 100_000}
    jd = {"type": "channel", "any_of": ["jd"]}
    assert check({"type": "all", "of": [big, {"type": "high_value"}]}).matched
    v = check({"type": "all", "of": [big, jd]})
    assert not v.matched and v.why == "channel tmall is not listed"  # the condition that decided it
    assert check({"type": "any", "of": [jd, big]}).matched
    assert check({"type": "not", "of": jd}).matched
    env = Env({"vip": COND.validate_python({"type": "buyer", "nicks": ["tb_buyer"]})})
    assert check({"type": "use", "name": "vip"}, env=env).matched


def test_facts_from_the_flow():
    assert check({"type": "blacklisted"}, facts(blacklisted=True)).matched
    assert check({"type": "duplicate_suspected"}, facts(duplicate_of="O1")).why.endswith("O1")
    assert not check({"type": "first_orders", "n": 3}, facts(buyer_order_count=3)).matched
    assert check({"type": "address", "problem": "incomplete"}, facts(address_complete=False)).matched
    assert check({"type": "invoice", "kinds": ["company"]}, facts(invoice_kind="company")).matched
    assert check({"type": "presale"}, facts(presale_stage="deposit_paid")).matched
    assert check(
        {"type": "tag", "tags": ["vip"], "on": "order"}, facts(extra_tags=frozenset({"vip"}))
    ).matched


@pytest.mark.parametrize(
    ("match", "order_tags", "matched"),
    [
        ("only", {"vip"}, True),
        ("only", {"vip", "big"}, False),  # a tag outside the list
        ("only", set(), False),  # no tag at all is not "only these"
        ("all", {"vip", "big"}, False),
        ("none", {"big"}, True),
        ("any", {"big"}, False),
    ],
)
def test_order_tags_honour_every_match_mode(match, order_tags, matched):
    """ONEX §13 #2 (options silently ignored): `only` on the order's tags meant `any` before."""
    cond = {"type": "tag", "tags": ["vip"], "on": "order", "match": match}
    if match == "all":
        cond["tags"] = ["vip", "gift"]
    assert check(cond, facts(extra_tags=frozenset(order_tags))).matched is matched
