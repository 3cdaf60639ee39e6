"""The rules engine: rule set and strategy documents, their reference checks, `run` and `choose_strategy`.

Each condition on its own is covered by test_rules_conditions.py; here, the documents and the engine."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from omni_order.domain.rules.facts import LineFacts, OrderFacts
from omni_order.domain.rules.ruleset import (
    MAX_PROBLEMS,
    HoldReason,
    Known,
    Problem,
    RuleSetDoc,
    StrategyDoc,
    StrategyVersion,
    TraceEntry,
    choose_strategy,
    condition_types,
    ruleset_problems,
    run,
    strategy_problems,
)

KNOWN = Known(
    channels=frozenset({"tmall", "jd"}),
    shops=frozenset({"tmall:TM-01", "jd:JD-01"}),
    skus=frozenset({"BEAN-250", "SP-BEAN", "GRINDER", "MUG"}),
    categories=frozenset({"food/coffee/beans", "kitchen/tools"}),
    rulesets=frozenset({"rs-main"}),
)
BIG = {"type": "paid_amount", "min": 100_000}
JD = {"type": "channel", "any_of": ["jd"]}


def facts(**kw) -> OrderFacts:
    base = OrderFacts(
        channel="tmall",
        shop_id="TM-01",
        business_model="B2C",
        delivery="express",
        paid_cents=128_800,
        goods_paid_cents=128_000,
        lines=(
            LineFacts("BEAN-250", "SP-BEAN", 2, 60_000, category="food/coffee/beans", weight_g=250),
            LineFacts("GRINDER", "SP-GRIND", 1, 68_000, category="kitchen/tools", high_value=True),
        ),
        created_at=datetime(2026, 12, 3, 14, 30, tzinfo=UTC),
        buyer_nick="tb_buyer",
    )
    return replace(base, **kw)


def rule(rid: str, then: list[dict], when: dict | None = None, **kw) -> dict:
    return {"id": rid, "name": rid, "then": then, **({"when": when} if when else {}), **kw}


def hold(code: str) -> dict:
    return {"type": "hold", "code": code, "reason": f"{code} reason"}


def ruleset(*rules: dict, **kw) -> RuleSetDoc:
    return RuleSetDoc.model_validate({"name": "test", "rules": list(rules), **kw})


# -- documents -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "bad",
    [
        {"name": "x", "rules": [], "owner": "ops"},  # an unknown top-level field
        {"name": "x", "rules": [rule("r", [hold("h")]) | {"unless": BIG}]},  # an unknown rule field
        {"name": "x", "rules": [rule("r", [hold("h") | {"notify": True}])]},  # an unknown action option
        {"name": "x", "rules": [rule("r", [{"type": "email", "to": "ops"}])]},  # an unknown action
        {"name": "x", "rules": [rule("r", [hold("h")], {"type": "paid_amount", "min": 500, "max": 100})]},
        {"name": "x", "rules": [rule("r", [hold("h")], {"type": "weight", "min": 5, "max": 5})]},
        {"name": "x", "rules": [rule("r", [])]},  # a rule that does nothing
        {"name": "x", "rules": [rule("r", [hold("h")], final="yes")]},  # no truthy strings
        {"name": "x", "rules": [rule("r", [hold("Not A Code")])]},
        {"name": "x", "rules": [rule("r", [{"type": "route_hint"}])]},  # a hint with no node, pool, carrier
        {"name": "x", "rules": [rule("r", [{"type": "add_gift", "gift_id": "g", "material_code": "MUG",
                                           "for_skus": ["BEAN-250"]}])]},  # for_skus without per_units
    ],
)  # fmt: skip
def test_malformed_rule_sets_are_refused_by_the_model(bad):
    with pytest.raises(ValidationError):
        RuleSetDoc.model_validate(bad)


def test_an_unknown_field_is_named_in_the_error():
    with pytest.raises(ValidationError) as exc:
        RuleSetDoc.model_validate({"name": "x", "rules": [rule("r", [hold("h")]) | {"unless": BIG}]})
    (err,) = exc.value.errors()
    assert err["type"] == "extra_forbidden" and err["loc"] == ("rules", 0, "unless")


@pytest.mark.parametrize(
    "bad",
    [
        {"name": "s", "match": {"channel": ["tmall"]}},  # singular: would match everything if ignored
        {"name": "s", "review": {"auto_approve": True, "check_unpaid": True}},
        {"name": "s", "merge": {"enabled": True, "window_s": 90_000}},  # over a day
        {"name": "s", "merge": {"enabled": "true"}},
        {"name": "s", "match": {"shops": ["TM-01"]}},  # a shop without its channel
        {"name": "s", "match": {"business_models": ["C2C"]}},
        {"name": "s", "priority": 1.5},
        {"name": "s", "backorder": {"on_overdue": "refund"}},
    ],
)
def test_malformed_strategies_are_refused_by_the_model(bad):
    with pytest.raises(ValidationError):
        StrategyDoc.model_validate(bad)


def test_every_reference_problem_of_a_rule_set_is_listed():
    doc = ruleset(
        rule("r1", [hold("h")], {"type": "channel", "any_of": ["tmall", "vip", "dewu"]}),
        rule(
            "r2",
            [hold("h")],
            {
                "type": "all",
                "of": [
                    {"type": "shop", "any_of": ["tmall:TM-01", "tmall:TM-99"]},
                    {"type": "not", "of": {"type": "sku", "codes": ["MUG", "NOPE"]}},
                ],
            },
        ),
        rule("r3", [hold("h")], {"type": "category", "prefixes": ["food/coffee", "food/cof", "toys"]}),
        rule(
            "r1",
            [
                {
                    "type": "add_gift",
                    "gift_id": "g1",
                    "material_code": "GIFT-X",
                    "substitutes": ["MUG", "SUB-Y"],
                }
            ],
            {"type": "use", "name": "nowhere"},
        ),
        definitions={"vip": {"type": "buyer", "nicks": ["a"]}, "bad": {"type": "sku", "codes": ["ZZZ"]}},
    )
    assert ruleset_problems(doc, KNOWN) == [
        Problem("body.definitions.bad.codes[0]", "unknown sku ZZZ"),
        Problem("body.rules[0].when.any_of[1]", "unknown channel vip"),
        Problem("body.rules[0].when.any_of[2]", "unknown channel dewu"),
        Problem("body.rules[1].when.of[0].any_of[1]", "unknown shop tmall:TM-99"),
        Problem("body.rules[1].when.of[1].of.codes[1]", "unknown sku NOPE"),
        Problem("body.rules[2].when.prefixes[1]", "no material is in category food/cof"),
        Problem("body.rules[2].when.prefixes[2]", "no material is in category toys"),
        Problem("body.rules[3].id", "rule id r1 repeats rule 0"),
        Problem("body.rules[3].when.name", "no definition named nowhere"),
        Problem("body.rules[3].then[0].material_code", "unknown sku GIFT-X"),
        Problem("body.rules[3].then[0].substitutes[1]", "unknown sku SUB-Y"),
    ]


def test_a_well_formed_rule_set_has_no_problem():
    doc = ruleset(
        rule("r1", [hold("h")], {"type": "use", "name": "coffee"}),
        rule("r2", [{"type": "tag", "tags": ["vip"]}], {"type": "category", "prefixes": ["food/coffee/"]}),
        definitions={"coffee": {"type": "all", "of": [{"type": "sku", "codes": ["SP-BEAN"]}, JD]}},
    )
    assert ruleset_problems(doc, KNOWN) == []


def test_circular_definitions_are_each_reported_once():
    doc = ruleset(
        rule("r1", [hold("h")], {"type": "use", "name": "a"}),
        definitions={
            "a": {"type": "any", "of": [BIG, {"type": "use", "name": "b"}]},
            "b": {"type": "not", "of": {"type": "use", "name": "a"}},
            "self": {"type": "use", "name": "self"},
            "fine": {"type": "use", "name": "leaf"},
            "leaf": BIG,
        },
    )
    assert ruleset_problems(doc, KNOWN) == [
        Problem("body.definitions.a", "circular reference: a -> b -> a"),
        Problem("body.definitions.self", "circular reference: self -> self"),
    ]


def test_an_unchecked_cycle_ends_in_a_no_match_not_a_recursion_error():
    doc = ruleset(rule("r1", [hold("h")], {"type": "use", "name": "a"}),
                  definitions={"a": {"type": "use", "name": "a"}})  # fmt: skip
    (entry,) = run(doc, facts()).trace
    assert not entry.matched and "nested deeper" in entry.why


def test_problems_are_capped_with_a_count_of_the_rest():
    codes = [f"X{i}" for i in range(MAX_PROBLEMS + 50)]
    problems = ruleset_problems(ruleset(rule("r", [hold("h")], {"type": "sku", "codes": codes})), KNOWN)
    assert len(problems) == MAX_PROBLEMS + 1
    assert problems[-1] == Problem("body", "and 50 more problems")


def test_every_reference_problem_of_a_strategy_is_listed():
    doc = StrategyDoc.model_validate({
        "name": "s", "ruleset_id": "rs-gone",
        "match": {"channels": ["tmall", "vip"], "shops": ["jd:JD-01", "jd:JD-02"]},
        "merge": {"enabled": True, "window_s": 300, "shops": ["tmall:TM-02"]},
    })  # fmt: skip
    assert strategy_problems(doc, KNOWN) == [
        Problem("body.match.channels[1]", "unknown channel vip"),
        Problem("body.match.shops[1]", "unknown shop jd:JD-02"),
        Problem("body.merge.shops[0]", "unknown shop tmall:TM-02"),
        Problem("body.ruleset_id", "no rule set rs-gone"),
    ]
    ok = StrategyDoc.model_validate({"name": "s", "ruleset_id": "rs-main", "match": {"channels": ["jd"]}})
    assert strategy_problems(ok, KNOWN) == []


def test_condition_types_name_what_enabled_rules_and_definitions_look_at():
    doc = ruleset(
        rule("r1", [hold("h")], {"type": "not", "of": {"type": "blacklisted"}}),
        rule("r2", [hold("h")], {"type": "duplicate_suspected"}, enabled=False),
        definitions={"d": {"type": "first_orders", "n": 1}},
    )
    assert condition_types([doc]) == {"not", "blacklisted", "first_orders"}


# -- run -------------------------------------------------------------------------------------------
def test_rules_run_in_order_and_the_trace_has_one_entry_per_rule_considered():
    doc = ruleset(
        rule("p1", [{"type": "priority", "value": 5}], BIG),
        rule("off", [hold("never")], enabled=False),
        rule("jd", [hold("jd_only")], {"type": "all", "of": [BIG, JD]}),
        rule("p2", [{"type": "priority", "value": -3}]),
    )
    out = run(doc, facts(), ruleset_label="rs-main v2")
    assert out.priority == -3  # the later rule wins
    assert out.holds == []
    assert out.trace == [
        TraceEntry("review", "rule p1 (rs-main v2)", True, "paid amount 1288.00 ≥ 1000.00", "priority 5"),
        TraceEntry("review", "rule off (rs-main v2)", False, "disabled"),
        TraceEntry("review", "rule jd (rs-main v2)", False, "channel tmall is not listed"),  # what decided
        TraceEntry("review", "rule p2 (rs-main v2)", True, "always", "priority -3"),
    ]


def test_a_final_rule_stops_evaluation_only_when_it_matches():
    doc = ruleset(
        rule("f-jd", [hold("jd")], JD, final=True),  # does not match: no stop
        rule("f-big", [hold("big")], BIG, final=True),
        rule("after", [hold("after")]),
    )
    out = run(doc, facts())
    assert [h.code for h in out.holds] == ["big"]
    assert [e.subject for e in out.trace] == ["rule f-jd", "rule f-big"]
    assert out.trace[-1].effect == "hold big: big reason; stop"
    assert [h.code for h in run(doc, facts(paid_cents=5_000)).holds] == ["after"]


def test_approve_stops_and_keeps_the_holds_found_before():
    doc = ruleset(
        rule("risk", [hold("risk")], BIG),
        rule("ok", [{"type": "approve"}, {"type": "tag", "tags": ["fast"]}]),
        rule("late", [hold("late")]),
    )
    out = run(doc, facts())
    assert out.approved_by == "ok" and out.tags == ["fast"]
    assert [h.code for h in out.holds] == ["risk"]
    assert [e.subject for e in out.trace] == ["rule risk", "rule ok"]
    assert out.trace[-1].effect == "approve; tag fast; stop"


def test_every_action_is_collected_into_the_outcome():
    gift = {"type": "add_gift", "gift_id": "mug-2026", "material_code": "MUG", "qty": 2}
    doc = ruleset(
        rule(
            "h",
            [
                hold("big_order"),
                {"type": "block", "reason": "fraud"},
                {"type": "require_review", "reason": "look"},
            ],
            BIG,
        ),
        rule(
            "t1",
            [{"type": "tag", "tags": ["vip", "big"]}, {"type": "split_by_type", "kinds": ["high_value"]}],
        ),
        rule(
            "t2",
            [
                {"type": "tag", "tags": ["big", "gifted"]},
                gift,
                {"type": "split_by_type", "kinds": ["high_value", "cold_chain"]},
            ],
            {"type": "tag", "tags": ["vip"], "on": "order"},
        ),  # sees the tag rule t1 set
        rule(
            "r", [{"type": "route_hint", "node": "WH-HZ", "carrier": "SF"}, {"type": "priority", "value": 9}]
        ),
    )
    out = run(doc, facts())
    assert out.holds == [
        HoldReason("big_order", "big_order reason", "h"),
        HoldReason("blocked", "fraud", "h", blocking=True),
        HoldReason("manual_review", "look", "h"),
    ]
    assert out.tags == ["vip", "big", "gifted"]  # once each, in order
    assert out.split_kinds == ["high_value", "cold_chain"]
    assert [(rid, g.material_code, g.qty) for rid, g in out.gifts] == [("t2", "MUG", 2)]
    assert [(h.node, h.pool, h.carrier) for h in out.route_hints] == [("WH-HZ", None, "SF")]
    assert out.priority == 9 and out.approved_by is None
    assert [e.effect for e in out.trace] == [
        "hold big_order: big_order reason; block: fraud; manual review: look",
        "tag vip, big; split high_value",
        "tag big, gifted; gift 2 × MUG (mug-2026); split high_value, cold_chain",
        "route to node WH-HZ, carrier SF; priority 9",
    ]


def test_an_order_tag_set_by_a_later_rule_is_not_seen_by_an_earlier_one():
    doc = ruleset(
        rule("early", [hold("vip")], {"type": "tag", "tags": ["vip"], "on": "order"}),
        rule("set", [{"type": "tag", "tags": ["vip"]}]),
    )
    out = run(doc, facts())
    assert out.holds == [] and out.tags == ["vip"]


def test_definitions_are_used_by_name():
    doc = ruleset(rule("r", [hold("vip")], {"type": "use", "name": "vip"}),
                  definitions={"vip": {"type": "buyer", "nicks": ["tb_buyer"]}})  # fmt: skip
    assert [h.code for h in run(doc, facts()).holds] == ["vip"]
    assert run(doc, facts(buyer_nick="other")).trace[0].why == "the buyer is not listed"


def test_the_same_input_gives_the_same_outcome():
    doc = ruleset(
        rule("a", [hold("big"), {"type": "tag", "tags": ["x"]}], BIG),
        rule("b", [{"type": "add_gift", "gift_id": "g", "material_code": "MUG"}], {"type": "high_value"}),
        rule("c", [{"type": "route_hint", "pool": "south"}], {"type": "tag", "tags": ["x"], "on": "order"}),
    )
    f = facts()
    first = run(doc, f, ruleset_label="rs v1")
    for _ in range(5):
        assert (
            run(RuleSetDoc.model_validate(doc.model_dump(by_alias=True)), f, ruleset_label="rs v1") == first
        )
    assert f.extra_tags == frozenset()  # the facts given are not changed by the tags a run sets


# -- choose_strategy -------------------------------------------------------------------------------
def sv(sid: str, version: int = 1, **doc) -> StrategyVersion:
    return StrategyVersion(sid, version, StrategyDoc.model_validate({"name": sid, **doc}))


def test_priority_beats_specificity():
    chosen, trace = choose_strategy(
        [sv("shop", match={"shops": ["tmall:TM-01"]}), sv("any", priority=10)], facts()
    )
    assert chosen is not None and chosen.strategy_id == "any"
    assert trace == [
        TraceEntry("strategy", "strategy any v1", True, "matches; priority 10", "chosen"),
        TraceEntry("strategy", "strategy shop v1", True, "matches, but any ranks higher"),
    ]


def test_at_equal_priority_the_more_specific_wins_then_the_smaller_id():
    strategies = [
        sv("a-any"),
        sv("b-model", match={"business_models": ["B2C"]}),
        sv("c-channel", match={"channels": ["tmall"]}),
        sv("d-shop", match={"shops": ["tmall:TM-01"]}),
        sv("e-shop", match={"shops": ["tmall:TM-01"]}),
    ]
    chosen, trace = choose_strategy(strategies, facts())
    assert chosen is not None and chosen.strategy_id == "d-shop"
    assert [e.subject for e in trace if e.matched] == [
        "strategy d-shop v1", "strategy e-shop v1", "strategy c-channel v1", "strategy b-model v1",
        "strategy a-any v1",
    ]  # fmt: skip
    assert choose_strategy(strategies[:3], facts())[0].strategy_id == "c-channel"
    assert choose_strategy(strategies[:2], facts())[0].strategy_id == "b-model"


def test_disabled_and_unmatched_strategies_are_skipped_with_their_reason():
    strategies = [
        sv("off", 3, priority=100, enabled=False),
        sv("jd", match={"channels": ["jd"], "business_models": ["O2O"]}),
        sv("other-shop", match={"shops": ["tmall:TM-02"]}),
        sv("fallback", 2),
    ]
    chosen, trace = choose_strategy(strategies, facts())
    assert chosen is not None and (chosen.strategy_id, chosen.version) == ("fallback", 2)
    assert trace == [
        TraceEntry(
            "strategy", "strategy jd v1", False, "channel tmall not in jd; business model B2C not in O2O"
        ),
        TraceEntry("strategy", "strategy off v3", False, "disabled"),
        TraceEntry("strategy", "strategy other-shop v1", False, "shop tmall:TM-01 not listed"),
        TraceEntry("strategy", "strategy fallback v2", True, "matches; priority 0", "chosen"),
    ]


def test_no_strategy_matches():
    chosen, trace = choose_strategy([sv("jd", match={"channels": ["jd"]}), sv("off", enabled=False)], facts())
    assert chosen is None
    assert [(e.subject, e.matched) for e in trace] == [("strategy jd v1", False), ("strategy off v1", False)]
    assert choose_strategy([], facts()) == (None, [])


def test_the_choice_does_not_depend_on_the_order_strategies_are_given_in():
    strategies = [
        sv(f"s{i}", priority=i % 3, match={"channels": ["tmall"]} if i % 2 else {}) for i in range(9)
    ]
    first = choose_strategy(strategies, facts())
    rnd = random.Random(7)
    for _ in range(5):
        shuffled = strategies[:]
        rnd.shuffle(shuffled)
        assert choose_strategy(shuffled, facts()) == first
    assert first[0] is not None and first[0].strategy_id == "s5"  # priority 2, channel-specific
