"""Rule sets and strategies through the use cases (service/rules.py, service/dryrun.py) on the fake unit of
work: versions, every problem in one refusal, rollback, the next order under the new version, dry-run."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest
from order_factories import channel_order, envelope, product_events
from order_fakes import fake_uow

from omni_order import service
from omni_order.domain.rules.ruleset import Problem, RuleSetDoc, StrategyDoc
from omni_order.service import dryrun, rules

URGENT = {"id": "urgent", "name": "urgent", "when": {"type": "message", "contains": ["急"]},
          "then": [{"type": "hold", "code": "urgent", "reason": "the buyer is in a hurry"}]}  # fmt: skip


def rs(*rule_list: dict, name: str = "main") -> RuleSetDoc:
    return RuleSetDoc.model_validate({"name": name, "rules": list(rule_list)})


def strategy(**doc) -> StrategyDoc:
    return StrategyDoc.model_validate({"name": "tmall", "ruleset_id": "rs", "match": {"channels": ["tmall"]}}
                                      | doc)  # fmt: skip


async def configured(*rule_list: dict):
    uow = fake_uow()
    await service.project_catalog(uow, [envelope(e) for e in product_events()])
    await rules.save(uow, "ruleset", "rs", rs(*rule_list))
    await rules.save(uow, "strategy", "st", strategy())
    return uow


async def take(uow, **kw) -> str:
    (order_id,) = (await service.intake(uow, [envelope(channel_order(**kw))])).accepted
    return order_id


async def test_each_save_is_a_new_version_and_a_rollback_saves_an_old_one_again():
    uow = await configured(URGENT)
    v1 = (await rules.get(uow, "ruleset", "rs"))["doc"]
    saved = await rules.save(uow, "ruleset", "rs", rs(URGENT, name="main, renamed"), "rename")
    assert (saved["version"], saved["name"], saved["comment"]) == (2, "main, renamed", "rename")
    assert [v["version"] for v in await rules.versions(uow, "ruleset", "rs")] == [2, 1]
    back = await rules.rollback(uow, "ruleset", "rs", 1)
    assert (back["version"], back["comment"]) == (3, "rollback to version 1")
    assert back["doc"] == v1 and back["name"] == "main"
    assert [v["version"] for v in await rules.versions(uow, "ruleset", "rs")] == [3, 2, 1]
    with pytest.raises(rules.DocNotFound, match="ruleset rs has no version 9"):
        await rules.rollback(uow, "ruleset", "rs", 9)
    with pytest.raises(rules.DocNotFound, match="no strategy nope"):
        await rules.get(uow, "strategy", "nope")
    with pytest.raises(rules.DocNotFound):
        await rules.versions(uow, "ruleset", "nope")
    assert (await rules.get(uow, "strategy", "st"))["version"] == 1  # a strategy has its own versions


async def test_a_refused_rule_set_lists_every_problem_and_saves_nothing():
    uow = fake_uow()
    await service.project_catalog(uow, [envelope(e) for e in product_events()])
    bad = RuleSetDoc.model_validate(
        {
            "name": "bad",
            "definitions": {"loop": {"type": "use", "name": "loop"}},
            "rules": [
                {
                    "id": "a",
                    "name": "a",
                    "when": {"type": "channel", "any_of": ["tmall", "vip"]},
                    "then": [{"type": "add_gift", "gift_id": "g", "material_code": "NO-SUCH-MUG"}],
                },
                {
                    "id": "b",
                    "name": "b",
                    "when": {
                        "type": "any",
                        "of": [
                            {"type": "shop", "any_of": ["tmall:S9"]},
                            {"type": "sku", "codes": ["BEAN-ETH-500", "XX"]},
                            {"type": "category", "prefixes": ["toys"]},
                            {"type": "use", "name": "vip"},
                        ],
                    },
                    "then": [{"type": "approve"}],
                },
            ],
        }
    )
    with pytest.raises(rules.DocProblems, match="the ruleset has 7 problems") as exc:
        await rules.save(uow, "ruleset", "bad", bad)
    assert exc.value.problems == [
        Problem("body.definitions.loop", "circular reference: loop -> loop"),
        Problem("body.rules[0].when.any_of[1]", "unknown channel vip"),
        Problem("body.rules[0].then[0].material_code", "unknown sku NO-SUCH-MUG"),
        Problem("body.rules[1].when.of[0].any_of[0]", "unknown shop tmall:S9"),
        Problem("body.rules[1].when.of[1].codes[1]", "unknown sku XX"),
        Problem("body.rules[1].when.of[2].prefixes[0]", "no material is in category toys"),
        Problem("body.rules[1].when.of[3].name", "no definition named vip"),
    ]
    assert uow.repo.docs == {} and uow.repo.doc_rows == []


async def test_a_strategy_must_name_a_rule_set_that_exists():
    uow = fake_uow()
    await service.project_catalog(uow, [envelope(e) for e in product_events()])
    doc = strategy(match={"channels": ["tmall", "nowhere"], "shops": ["tmall:S1", "jd:X"]})
    with pytest.raises(rules.DocProblems, match="the strategy has 3 problems") as exc:
        await rules.save(uow, "strategy", "st", doc)
    assert [p.message for p in exc.value.problems] == [
        "unknown channel nowhere", "unknown shop jd:X", "no rule set rs",
    ]  # fmt: skip
    await rules.save(uow, "ruleset", "rs", rs(URGENT))
    with pytest.raises(rules.DocProblems, match="the strategy has 2 problems"):
        await rules.save(uow, "strategy", "st", doc)
    assert (await rules.save(uow, "strategy", "st", strategy()))["version"] == 1


async def test_the_next_order_uses_the_new_version_without_a_restart():
    uow = await configured(URGENT)
    first = await take(uow, buyer_message="急!")
    assert uow.repo.orders[first]["status"] == "held"
    await rules.save(uow, "ruleset", "rs", rs({**URGENT, "enabled": False}))
    second = await take(uow, buyer_message="急!")
    assert uow.repo.orders[second]["status"] == "accepted"
    subjects = [(d["subject"], d["why"]) for d in uow.repo.decision_rows if d["order_id"] == second]
    assert ("rule urgent (rs v2)", "disabled") in subjects
    await rules.rollback(uow, "ruleset", "rs", 1)
    third = await take(uow, buyer_message="急!")
    assert uow.repo.orders[third]["status"] == "held"
    assert [h["rule"] for h in uow.repo.hold_rows if h["order_id"] == third] == ["rule urgent (rs v3)"]


# -- dry-run ---------------------------------------------------------------------------------------
def state(uow) -> dict:
    repo = uow.repo
    return copy.deepcopy({k: getattr(repo, k) for k in repo._state()}) | {
        "events": list(uow.committed_events),
        "timers": dict(uow.timers),
    }


async def three_orders():
    """Three orders under rule set v1 (holds "急"), oldest first: urgent, plain, invoice question."""
    uow = await configured(URGENT)
    t0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
    ids = [
        await take(uow, buyer_message=msg, created_at=t0 + timedelta(minutes=n))
        for n, msg in enumerate(["急!", "", "要发票"])
    ]
    return uow, ids


INVOICE = {"id": "inv", "name": "inv", "when": {"type": "message", "contains": ["发票"]},
           "then": [{"type": "hold", "code": "invoice_check", "reason": "check the invoice"}]}  # fmt: skip
SEEN = {"id": "seen", "name": "seen", "then": [{"type": "tag", "tags": ["seen"]}]}


async def test_a_dry_run_reports_what_would_change_and_changes_nothing():
    uow, (urgent, plain, invoice) = await three_orders()
    before = state(uow)
    report = await dryrun.dry_run(uow, "rs", draft=rs(INVOICE, SEEN), last=10)
    assert state(uow) == before
    assert (report["ruleset"], report["orders"], report["changed"], report["would_hold"]) == (
        "rs (draft)", 3, 3, 1,
    )  # fmt: skip
    items = {i["order_id"]: i for i in report["items"]}
    assert [i["order_id"] for i in report["items"]] == [invoice, plain, urgent]  # newest first
    assert items[urgent]["actual"]["holds"] == ["urgent"] and items[urgent]["actual"]["status"] == "held"
    assert items[urgent]["changes"] == ["would not hold urgent", "would tag seen"]
    assert items[plain]["changes"] == ["would tag seen"]
    assert items[invoice]["changes"] == ["would hold invoice_check", "would tag seen"]
    assert items[invoice]["would"]["matched_rules"] == ["rule inv (rs (draft))", "rule seen (rs (draft))"]


async def test_a_dry_run_of_the_saved_version_over_the_last_n_orders():
    uow, (_urgent, plain, invoice) = await three_orders()
    before = state(uow)
    report = await dryrun.dry_run(uow, "rs", last=2)
    assert state(uow) == before
    assert report["ruleset"] == "rs v1" and report["orders"] == 2 and report["changed"] == 0
    assert [i["order_id"] for i in report["items"]] == [invoice, plain]
    await rules.save(uow, "ruleset", "rs", rs(INVOICE))
    before = state(uow)
    by_version = await dryrun.dry_run(uow, "rs", version=1, last=3)
    assert state(uow) == before
    assert by_version["ruleset"] == "rs v1" and by_version["changed"] == 0 and by_version["would_hold"] == 1
    newest = await dryrun.dry_run(uow, "rs", last=3)
    assert newest["ruleset"] == "rs v2" and newest["changed"] == 2
    with pytest.raises(rules.DocNotFound, match="no rule set rs version 7"):
        await dryrun.dry_run(uow, "rs", version=7)
    with pytest.raises(rules.DocNotFound, match="no rule set other"):
        await dryrun.dry_run(uow, "other")


async def test_a_dry_run_over_a_time_range():
    uow, (_urgent, plain, _invoice) = await three_orders()
    t0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
    report = await dryrun.dry_run(
        uow, "rs", draft=rs(SEEN), since=t0 + timedelta(minutes=1), until=t0 + timedelta(minutes=2)
    )
    assert [i["order_id"] for i in report["items"]] == [plain]
