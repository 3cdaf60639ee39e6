"""`make demo`'s rules act against the e2e stack: the demo rule set holds the order whose buyer asks for a
call (its trace names the rule and why), gives 2 gift bags for 4 bags of beans (0 paid), the operator's
release sends it on to allocated with the gift on the task, a dry-run reported without changing anything,
and the demo strategy is disabled at the end."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from helpers import demo_poll

from omni_tools.demo_rules import BEANS, GIFT, STRATEGY, rules_act

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]


async def test_the_demo_rule_set_holds_gifts_and_releases(gw):
    seen = await rules_act(gw, demo_poll)
    strategy = (await gw.get(f"/api/order/strategies/{STRATEGY}")).json()
    held = seen["held"]
    assert (held["status"], held["status_reason_code"]) == ("held", "buyer_message"), held
    decisions = [(d["stage"], d["subject"], d["matched"]) for d in seen["trace"]["decisions"]]
    assert any(
        (a, c) == ("review", True) and b.startswith("rule call-first (demo-review v") for a, b, c in decisions
    ), decisions
    assert ("gifts", "gift demo-colombia-250 (rule beans-2-get-1)", True) in decisions, decisions
    assert seen["released"]["status"] in {"accepted", "sourcing", "allocated"}
    assert seen["final"]["status"] == "allocated", seen["final"].get("status_reason")
    assert [(g["material_code"], g["qty"], g["amount_cents"]) for g in seen["gifts"]] == [(GIFT, 2, 0)]
    assert seen["task_lines"] == sorted([(BEANS, 4), (GIFT, 2)]), seen["task_lines"]
    dry = seen["dry_run"]
    assert dry["orders"] >= 1 and dry["would_hold"] >= 1 and dry["would_gift"] >= 1, dry
    (mine,) = [x for x in dry["items"] if x["order_id"] == held["order_id"]]
    assert "buyer_message" in mine["would"]["holds"] and mine["actual"]["gifts"] == ["demo-colombia-250"], (
        mine
    )
    assert not [c for c in mine["changes"] if "gift" in c or "buyer_message" in c], mine["changes"]
    assert seen["after_dry_run"]["status"] == "allocated" and len(seen["after_dry_run"]["history"]) == len(
        seen["final"]["history"]
    ), "the dry-run changed the order"
    assert strategy["doc"]["enabled"] is False
