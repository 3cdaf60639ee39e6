"""The bench's 50-rule documents: valid as the order service validates them (shape and references), and,
run by the order service's own review over the bench's own trades, they never hold an order, while most
rules are exercised and the one hold rule is live (a complaint in the message holds)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from omni_channel.domain.tmall import Accepted, normalise_trade
from omni_contracts.bundles import Component
from omni_order.domain.intake import Catalog, Listing, Material, SalesProduct, plan_intake
from omni_order.domain.review import order_facts, review
from omni_order.domain.rules.ruleset import (
    Known,
    RuleSetDoc,
    StrategyDoc,
    StrategyVersion,
    ruleset_problems,
    strategy_problems,
    walk,
)
from omni_tools import catalog as demo
from omni_tools.bench.bus import Bus
from omni_tools.bench.orders import iter_orders
from omni_tools.bench.push import Push
from omni_tools.bench.rules50 import RULESET_ID, STRATEGY_ID, ruleset_doc, strategy_doc
from omni_tools.bench.rules_phase import RulesRun, matches_shop
from omni_tools.bench.table import Results, rows
from omni_tools.bench.watch import Flow

SHOP = demo.SHOP["shop_id"]
NOW = datetime.now(UTC)  # the trades are placed two minutes before now (omni_tools.tmall.trade)


def _catalog() -> Catalog:
    """The demo catalog (what `make up` seeds and the bench sells) as the order service's domain sees it."""
    listings = [
        Listing(
            x["listing_id"], x["channel"], x["shop_id"], x["channel_item_id"], x["channel_sku_id"],
            x["outer_id"], x["sales_product_code"], price_cents=x["price_cents"],
        )
        for x in demo.LISTINGS
    ]  # fmt: skip
    products = []
    for p in demo.SALES_PRODUCTS:
        parts = tuple(Component(c["material_code"], c["qty"], c["price_weight"]) for c in p["components"])
        products.append(SalesProduct(p["code"], p["name"], True, parts))
    materials = [
        Material(
            m["code"], True, category=m.get("category", ""), tags=frozenset(m.get("tags", ())),
            handling=m.get("handling", "normal"), weight_g=m["weight_g"],
            high_value=m.get("high_value", False),
        )
        for m in demo.MATERIALS
    ]  # fmt: skip
    return Catalog(listings, products, materials)


def _known() -> Known:
    codes = {m["code"] for m in demo.MATERIALS} | {p["code"] for p in demo.SALES_PRODUCTS}
    return Known(
        channels=frozenset({"tmall"}),
        shops=frozenset({f"tmall:{SHOP}"}),
        skus=frozenset(codes),
        categories=frozenset(m["category"] for m in demo.MATERIALS),
        rulesets=frozenset({RULESET_ID}),
    )


def _review_bench_orders(n: int, message: str = ""):
    cat = _catalog()
    strategy = StrategyVersion(STRATEGY_ID, 1, StrategyDoc.model_validate(strategy_doc()))
    rulesets = {RULESET_ID: (1, RuleSetDoc.model_validate(ruleset_doc()))}
    out = []
    for doc in iter_orders(n, "123456", seed=7):
        if message:
            doc["trade_fullinfo_get_response"]["trade"]["buyer_message"] = message
        outcome = normalise_trade(doc, shop_id=SHOP, received_at=NOW)
        assert isinstance(outcome, Accepted), outcome
        event = outcome.event
        plan = plan_intake(event, cat)
        assert plan.accepted, plan.reason
        out.append(review(order_facts(event, plan, cat), [strategy], rulesets))
    return out


def test_the_documents_are_valid_and_the_rule_set_has_50_distinct_rules():
    rs = RuleSetDoc.model_validate(ruleset_doc())
    st = StrategyDoc.model_validate(strategy_doc())
    assert len(rs.rules) == 50
    assert len({r.id for r in rs.rules}) == 50
    assert ruleset_problems(rs, _known()) == []
    assert strategy_problems(st, _known()) == []
    assert st.ruleset_id == RULESET_ID and st.enabled and st.priority == 1000
    assert st.match.shops == [f"tmall:{SHOP}"] and not st.merge.enabled and st.review.auto_approve
    off = StrategyDoc.model_validate(strategy_doc(enabled=False))
    assert off.enabled is False and off.ruleset_id == RULESET_ID


def test_the_conditions_are_mixed_and_the_actions_let_orders_flow():
    rs = RuleSetDoc.model_validate(ruleset_doc())
    conds = [r.when for r in rs.rules if r.when is not None] + list(rs.definitions.values())
    kinds = {x.type for c in conds for x, _ in walk(c, "")}
    assert {"message", "paid_amount", "sku", "region", "order_time", "tag", "buyer", "all", "any"} <= kinds
    actions = Counter(a.type for r in rs.rules for a in r.then)
    assert set(actions) <= {"tag", "priority", "route_hint", "hold"}
    assert actions["hold"] == 1
    assert not any(r.final for r in rs.rules)


def test_the_bench_orders_are_never_held_and_most_rules_decide_something():
    reviews = _review_bench_orders(200)
    assert all(r.strategy is not None and r.strategy.strategy_id == STRATEGY_ID for r in reviews)
    assert [r for r in reviews if r.held] == []
    assert all(r.ruleset_label == f"{RULESET_ID} v1" for r in reviews)
    rule_entries = [e for r in reviews for e in r.trace if e.subject.startswith("rule ")]
    assert len(rule_entries) == 200 * 50  # every rule is evaluated on every order (no rule stops the run)
    matched = Counter(e.subject.split()[1] for e in rule_entries if e.matched)
    assert len(matched) >= 25  # the mix exercises at least half the rules
    assert "complaint" not in matched and "loyal" in matched and "ticket-premium" in matched
    assert all({"flagship", "current", "loyal"} <= set(r.outcome.tags) for r in reviews)
    day = {"night_order", "morning", "afternoon", "evening"}
    assert all(len(day & set(r.outcome.tags)) == 1 for r in reviews)  # the daily windows tile the day


def test_the_one_hold_rule_is_live():
    reviews = _review_bench_orders(5, message="收到假货，要投诉")
    assert all(r.held and [h.code for h in r.holds] == ["buyer_complaint"] for r in reviews)


# -- the rules phase's rows and its view of other strategies ----------------------------------------------
def _flow(n: int, per_s: float | None) -> Flow:
    return Flow(Push(tids=[f"t{i}" for i in range(n)]), to_allocated=per_s, allocated=n)


def test_the_table_shows_orders_per_second_without_and_with_the_rules_and_their_ratio():
    run = RulesRun(1000, without=_flow(1000, 2000.0), with_rules=_flow(1000, 1500.0), applied=1000)
    res = Results("123456", bus=Bus(20_000, 1, 1, 1, 1, 1.0, 4_000, 1.0), rules=run)
    by_name = {r.name: r for r in rows(res)}
    assert by_name["no strategy: published → allocated"].measured == "2,000 orders/s"
    assert by_name["50 rules: published → allocated"].measured == "1,500 orders/s"
    assert by_name["50 rules: published → allocated"].vs_bus == "0.38×"
    assert by_name["50 rules ÷ none (orders/s)"].measured == "0.75×"
    assert by_name["  reviewed by the 50 rules"].measured == "1,000 of 1,000"
    assert run.ratio == 0.75


def test_a_run_that_held_orders_or_met_other_strategies_says_so():
    run = RulesRun(10, without=_flow(10, 20.0), with_rules=_flow(10, None), applied=10, held=4)
    run.others = ["demo v3"]
    res = rows(Results("1", rules=run))
    assert run.ratio is None and not any(r.name.startswith("50 rules ÷") for r in res)
    assert {r.name: r.measured for r in res}["  reviewed by the 50 rules"] == "10 of 10; 4 held"
    assert "other strategies match the shop: demo v3" in res[0].section


def test_which_other_strategies_would_see_the_bench_orders():
    assert matches_shop({"match": {}})  # matches everything
    assert matches_shop({"match": {"channels": ["tmall"], "shops": ["tmall:TM-OMNI-FLAGSHIP"]}})
    assert not matches_shop({"enabled": False, "match": {}})
    assert not matches_shop({"match": {"channels": ["jd"]}})
    assert not matches_shop({"match": {"shops": ["tmall:OTHER"]}})
    assert not matches_shop({"match": {"business_models": ["O2O"]}})
