"""One test per defect of ONEX (ShopeX's open OMS) that issue #10 says Omni avoids.

What each defect is: /work/shared/reference/onex-oms-catalogue.md §13 (the row number is in each name)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from order_factories import envelope, product_events
from order_fakes import fake_uow
from pydantic import ValidationError

from omni_contracts.events.product import ChannelListingUpsertedV1
from omni_order import service
from omni_order.domain.review import MANUAL_REVIEW, MERGE_WINDOW, PRESALE_BALANCE, review
from omni_order.domain.rules.facts import LineFacts, OrderFacts
from omni_order.domain.rules.ruleset import (
    Known,
    Problem,
    RuleSetDoc,
    StrategyDoc,
    StrategyVersion,
    run,
    strategy_problems,
)
from omni_order.service import rules


def facts(**kw) -> OrderFacts:
    base = OrderFacts(
        channel="tmall",
        shop_id="TM-01",
        business_model="B2C",
        delivery="express",
        paid_cents=10_000,
        goods_paid_cents=10_000,
        lines=(LineFacts("BEAN-250", "SP-BEAN", 1, 10_000),),
        created_at=datetime(2026, 3, 3, 6, 0, tzinfo=UTC),
        buyer_nick="tb_buyer",
    )
    return replace(base, **kw)


def strategy(sid: str = "st", **doc) -> StrategyVersion:
    return StrategyVersion(sid, 1, StrategyDoc.model_validate({"name": sid, **doc}))


def ruleset(*rules: dict) -> RuleSetDoc:
    return RuleSetDoc.model_validate({"name": "rs", "rules": list(rules)})


def codes(r) -> list[str]:
    return [h.code for h in r.holds]


def test_defect_1_realtime_review_that_cannot_merge():
    """ONEX §13 #1: auto-merge worked only in batch order-taking; real-time review reviewed each order alone.
    Here one review both applies the rules and opens the merge window: the holds coexist."""
    rs = ruleset(
        {"id": "msg", "name": "msg", "when": {"type": "message", "non_empty": True},
         "then": [{"type": "require_review", "reason": "the buyer wrote"}]},
    )  # fmt: skip
    merging = strategy(ruleset_id="rs", merge={"enabled": True, "window_s": 300})
    r = review(facts(buyer_message="周末送"), [merging], {"rs": (1, rs)})
    assert codes(r) == [MANUAL_REVIEW, MERGE_WINDOW]
    assert [(e.stage, e.effect) for e in r.trace if e.stage == "merge"] == [("merge", "merge window")]
    # and an order no rule holds still waits for its merge window
    assert codes(review(facts(), [merging], {"rs": (1, rs)})) == [MERGE_WINDOW]
    # the window is the strategy's: without it, no merge hold
    plain = strategy(ruleset_id="rs")
    assert codes(review(facts(buyer_message="周末送"), [plain], {"rs": (1, rs)})) == [MANUAL_REVIEW]


@pytest.mark.parametrize(
    ("model", "doc"),
    [
        (RuleSetDoc, {"name": "rs", "rules": [{"id": "r", "name": "r", "then": [{"type": "approve"}],
                                               "skip_unpaid": True}]}),
        (RuleSetDoc, {"name": "rs", "rules": [{"id": "r", "name": "r", "then": [{"type": "approve"}],
                                               "when": {"type": "presale", "check_unpaid": True}}]}),
        (RuleSetDoc, {"name": "rs", "rules": [{"id": "r", "name": "r",
                                               "then": [{"type": "hold", "code": "x", "reason": "x",
                                                         "unless_paid": True}]}]}),
        (StrategyDoc, {"name": "st", "review": {"auto_approve": True, "check_unpaid": True}}),
        (StrategyDoc, {"name": "st", "merge": {"enabled": True, "o2o_default_group": True}}),
        (StrategyDoc, {"name": "st", "routing_attempts": 9}),
    ],
)  # fmt: skip
def test_defect_2_options_silently_ignored(model, doc):
    """ONEX §13 #2: the "unpaid-order check" option was stored and ignored. Here an option the engine does
    not know is a validation error (422), never a setting that silently does nothing."""
    with pytest.raises(ValidationError) as exc:
        model.model_validate(doc)
    assert [e["type"] for e in exc.value.errors()] == ["extra_forbidden"]


def test_defect_5_money_thresholds_in_whole_yuan():
    """ONEX §13 #5: money thresholds had to be whole numbers of yuan. Here they are integer fen: 99.99 and
    100.00 yuan decide differently, and a fractional (yuan-like) threshold is refused."""
    rs = ruleset({"id": "big", "name": "big", "when": {"type": "paid_amount", "min": 10_000},
                  "then": [{"type": "hold", "code": "big", "reason": "100 yuan or more"}]})  # fmt: skip
    assert codes(run(rs, facts(paid_cents=9_999))) == []
    assert codes(run(rs, facts(paid_cents=10_000))) == ["big"]
    for bad in (99.99, 9_999.5, "10000", True):  # (10000.0 is the JSON integer 10000: fen still)
        with pytest.raises(ValidationError):
            RuleSetDoc.model_validate({"name": "rs", "rules": [
                {"id": "big", "name": "big", "when": {"type": "paid_amount", "min": bad},
                 "then": [{"type": "approve"}]}]})  # fmt: skip


def test_defect_5_unescaped_regex_conditions():
    """ONEX §13 #5: memo keywords were unescaped regular expressions. Here `contains` is literal text; a
    regular expression is an explicit `pattern`, validated when the rule set is saved."""

    def msg(cond: dict) -> RuleSetDoc:
        return ruleset({"id": "m", "name": "m", "when": {"type": "message", **cond},
                        "then": [{"type": "hold", "code": "memo", "reason": "memo"}]})  # fmt: skip

    literal = msg({"contains": ["a.b"]})
    assert codes(run(literal, facts(buyer_message="axb"))) == []
    assert codes(run(literal, facts(buyer_message="want A.B please"))) == ["memo"]
    assert codes(run(msg({"contains": ["(vip"]}), facts(buyer_message="(vip) order"))) == ["memo"]
    assert codes(run(msg({"pattern": "a.b"}), facts(buyer_message="axb"))) == ["memo"]  # asked for
    with pytest.raises(ValidationError, match="not a valid regular expression"):
        msg({"pattern": "[unclosed"})


@pytest.mark.parametrize("month", range(1, 13))
def test_defect_13_hard_coded_presale_blackout_months(month):
    """ONEX §13 #13: presale orders could not merge in May, June, October and November (hard-coded). Here
    presale handling is the strategy's and the order's: every month of the year is treated alike."""
    at = datetime(2026, month, 15, 4, 0, tzinfo=UTC)
    merging = {"enabled": True, "window_s": 600}
    may_merge = strategy(merge=merging, presale={"merge": True})
    no_merge = strategy(merge=merging)  # presale orders do not merge by default
    paid = facts(created_at=at, presale_stage="final_paid")
    assert codes(review(paid, [may_merge], {})) == [MERGE_WINDOW]
    assert codes(review(paid, [no_merge], {})) == []
    assert codes(review(facts(created_at=at), [no_merge], {})) == [MERGE_WINDOW]  # not presale
    deposit = facts(created_at=at, presale_stage="deposit_paid")
    assert codes(review(deposit, [no_merge], {})) == [PRESALE_BALANCE]
    assert codes(review(deposit, [strategy(presale={"hold_until_final_paid": False})], {})) == []


def test_defect_15_a_rejected_store_order_sent_back_to_manual_review():
    """ONEX §13 #15: a store's rejection did not re-route the order; it fell back to manual review. Here no
    path leads to manual review unless a rule or the strategy asks for it: an auto-approving strategy with
    no rule that matches approves a store-pickup order, with no manual_review hold."""
    store = facts(delivery="store_pickup", business_model="O2O")
    rs = ruleset({"id": "jd", "name": "jd", "when": {"type": "channel", "any_of": ["jd"]},
                  "then": [{"type": "require_review", "reason": "jd"}]})  # fmt: skip
    for st, sets in ((strategy(), {}), (strategy(ruleset_id="rs"), {"rs": (1, rs)})):
        r = review(store, [st], sets)
        assert not r.held and MANUAL_REVIEW not in codes(r)
        assert r.trace[-1].why == "no hold applies: approved automatically"
    assert codes(review(store, [], {})) == []  # no strategy at all: approved too
    # manual review happens only where configured
    assert codes(review(store, [strategy(review={"auto_approve": False})], {})) == [MANUAL_REVIEW]


def test_defect_18_platform_branches_hard_coded_instead_of_configured():
    """ONEX §13 #18: platform-specific branches were hard-coded in merge, carrier choice and split. Here a
    channel is data: the same strategy and rules apply to any channel named, and channels are checked
    against the known set, not code branches."""
    rs = ruleset({"id": "big", "name": "big", "when": {"type": "paid_amount", "min": 5_000},
                  "then": [{"type": "hold", "code": "big", "reason": "big"}]})  # fmt: skip
    for channel in ("tmall", "pinduoduo", "dewu"):
        st = strategy(
            channel, ruleset_id="rs", match={"channels": [channel]}, merge={"enabled": True, "window_s": 60}
        )
        r = review(facts(channel=channel), [st], {"rs": (1, rs)})
        assert r.strategy is st and codes(r) == ["big", MERGE_WINDOW], channel
        assert review(facts(channel="jd"), [st], {"rs": (1, rs)}).strategy is None
    known = Known(channels=frozenset({"tmall", "pinduoduo"}))
    doc = StrategyDoc.model_validate({"name": "s", "match": {"channels": ["pinduoduo", "dewu"]}})
    assert strategy_problems(doc, known) == [Problem("body.match.channels[1]", "unknown channel dewu")]


async def test_defect_18_a_new_channel_becomes_known_from_its_listings_not_from_code():
    """ONEX §13 #18, through the service: a channel Omni has no adapter for is refused in a strategy until a
    listing of one of its shops exists; then it is accepted, with no code change."""
    uow = fake_uow()
    await service.project_catalog(uow, [envelope(e) for e in product_events()])
    doc = StrategyDoc.model_validate({"name": "dewu", "match": {"channels": ["dewu"]}})
    with pytest.raises(rules.DocProblems) as exc:
        await rules.save(uow, "strategy", "dewu", doc)
    assert exc.value.problems == [Problem("body.match.channels[0]", "unknown channel dewu")]
    listing = ChannelListingUpsertedV1(
        listing_id="L-DEWU", channel="dewu", shop_id="DW-1", channel_item_id="9", outer_id="BEAN-ETH-500",
        sales_product_code="BEAN-ETH-500", price_cents=9_900, version=1,
    )  # fmt: skip
    await service.project_catalog(uow, [envelope(listing)])
    assert (await rules.save(uow, "strategy", "dewu", doc))["version"] == 1
