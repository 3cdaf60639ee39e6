"""The rules engine end to end: a strategy and rule set saved through the gateway hold the next Tmall order
whose buyer message asks for it; the order's trace explains the hold; a dry-run over the latest orders says
what it would do and changes nothing; a release sends the held order on to allocated.

The stack is shared by every e2e test, so the strategy is scoped: its rule set holds only orders whose buyer
message carries this test's own token (a uuid), it auto-approves everything else with no merge, and it is
disabled (a new version, `enabled: false`) when the test ends, whatever happened.
"""

from __future__ import annotations

import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from helpers import SHOP, TERMINAL, new_sku, order_of, send, sku_line, tasks_of, tid_of, trade, wait_status

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

ADMIN = "dev-admin-key"
NODE = "WH-HZ"
HOLD = {"type": "hold", "code": "buyer_message", "reason": "the buyer asks for a call before shipping"}


def ruleset_doc(token: str, rule_id: str) -> dict:
    return {
        "name": f"e2e rules {token}",
        "rules": [
            {"id": rule_id, "name": "hold when the buyer asks",
             "when": {"type": "message", "contains": [token]}, "then": [HOLD]},
        ],
    }  # fmt: skip


@pytest.fixture
async def scoped(gw):
    """A rule set holding only this test's token, and a strategy for the e2e Tmall shop naming it."""
    token = uuid.uuid4().hex
    tag = token[:8]
    sku = await new_sku(
        gw, {NODE: 10}
    )  # also: the order service knows the shop (its listing) before the save
    rs, strategy, rule = f"e2e-rules-{tag}", f"e2e-strategy-{tag}", f"call-{tag}"
    r = await gw.put(f"/api/order/rulesets/{rs}", json=ruleset_doc(token, rule), params={"comment": "e2e"})
    assert r.status_code == 200, r.text
    doc = {
        "name": f"e2e strategy {tag}",
        "match": {"channels": ["tmall"], "shops": [f"tmall:{SHOP}"]},
        "ruleset_id": rs,
        "review": {"auto_approve": True},
        "merge": {"enabled": False},
    }
    r = await gw.put(f"/api/order/strategies/{strategy}", json=doc, params={"comment": "e2e"})
    assert r.status_code == 200, r.text
    try:
        yield {"token": token, "sku": sku, "ruleset": rs, "strategy": strategy, "rule": rule}
    finally:
        off = await gw.put(f"/api/order/strategies/{strategy}", json={**doc, "enabled": False},
                           params={"comment": "e2e test over"})  # fmt: skip
        assert off.status_code == 200, off.text


async def order_with(gw: httpx.AsyncClient, sku: dict, message: str) -> dict:
    doc = trade([sku_line(sku, 1)], address=0)
    doc["trade_fullinfo_get_response"]["trade"]["buyer_message"] = message
    assert (await send(gw, doc)).status_code == 202
    return doc


async def trace_of(gw: httpx.AsyncClient, order_id: str) -> dict:
    r = await gw.get(f"/api/order/orders/{order_id}/trace")
    assert r.status_code == 200, r.text
    return r.json()


def reviewed(trace: dict) -> dict:
    """What review decided and holds (sourcing may add its own entries to an allocated order's trace)."""
    decisions = [d for d in trace["decisions"] if d["stage"] in {"strategy", "review"}]
    return {"status": trace["status"], "decisions": decisions, "holds": trace["holds"]}


async def test_a_held_order_is_explained_by_its_trace_and_released_into_allocated(gw, scoped):
    token, rule, sid = scoped["token"], scoped["rule"], scoped["strategy"]
    held_doc = await order_with(gw, scoped["sku"], f"please call me first ({token})")
    plain_doc = await order_with(gw, scoped["sku"], "leave it at the door")

    held = await wait_status(gw, tid_of(held_doc), {"held"} | TERMINAL)
    assert (held["status"], held["status_reason_code"]) == ("held", "buyer_message"), held
    assert held["status_reason"] == HOLD["reason"]
    plain = await wait_status(gw, tid_of(plain_doc), TERMINAL)
    assert plain["status"] == "allocated", plain  # the strategy holds only what carries the token
    assert not await tasks_of(gw, held["order_id"])  # fulfillment never heard of the held order

    # (b) the trace explains the hold: the strategy chosen, the rule that matched and why, the outcome
    trace = await trace_of(gw, held["order_id"])
    assert (trace["status"], trace["strategy"]) == ("held", f"{sid} v1"), trace
    chosen = [d for d in trace["decisions"] if d["stage"] == "strategy" and d["effect"] == "chosen"]
    assert [d["subject"] for d in chosen] == [f"strategy {sid} v1"], trace["decisions"]
    (matched,) = [d for d in trace["decisions"] if d["subject"].startswith(f"rule {rule} ")]
    assert matched["subject"] == f"rule {rule} ({scoped['ruleset']} v1)" and matched["matched"], matched
    assert matched["why"] == f"the buyer message contains “{token}”"
    assert matched["effect"] == f"hold buyer_message: {HOLD['reason']}"
    stages = [d["stage"] for d in trace["decisions"]]
    assert (
        stages.index("strategy") < stages.index("review") and trace["decisions"][-1]["subject"] == "outcome"
    )
    assert trace["decisions"][-1]["why"] == "held: buyer_message"
    (hold,) = trace["holds"]
    assert (hold["code"], hold["rule"], hold["ended_at"]) == (
        "buyer_message", f"rule {rule} ({scoped['ruleset']} v1)", None,
    )  # fmt: skip
    plain_rule = [
        d for d in (await trace_of(gw, plain["order_id"]))["decisions"] if d["subject"] == matched["subject"]
    ]
    assert [(d["matched"], d["why"]) for d in plain_rule] == [
        (False, "the buyer message has none of the words")
    ]

    # (a) released, it continues the flow to allocated, with its task
    r = await gw.post(f"/api/order/orders/{held['order_id']}/release", json={"reason": "called the buyer"})
    assert r.status_code == 200, r.text
    done = await wait_status(gw, tid_of(held_doc), TERMINAL)
    assert done["status"] == "allocated", (done["status"], done.get("status_reason"))
    steps = [h["to_status"] for h in done["history"]]
    assert steps[:3] == ["received", "held", "accepted"] and steps[-1] == "allocated", steps
    assert len(await tasks_of(gw, held["order_id"])) == 1
    (ended,) = (await trace_of(gw, held["order_id"]))["holds"]
    assert (ended["ended_by"], ended["end_reason"]) == ("release", "called the buyer")
    again = await gw.post(f"/api/order/orders/{held['order_id']}/release", json={"reason": "twice"})
    assert again.status_code == 409, again.text


async def test_a_dry_run_over_the_latest_orders_changes_nothing(gw, scoped):
    token, rs = scoped["token"], scoped["ruleset"]
    held_doc = await order_with(gw, scoped["sku"], f"call me ({token})")
    other = f"wrap-{uuid.uuid4().hex}"
    plain_doc = await order_with(gw, scoped["sku"], f"gift {other}")
    held = await wait_status(gw, tid_of(held_doc), {"held"} | TERMINAL)
    plain = await wait_status(gw, tid_of(plain_doc), TERMINAL)
    assert (held["status"], plain["status"]) == ("held", "allocated"), (held, plain)
    mine = {held["order_id"]: held, plain["order_id"]: plain}
    tids = {held["order_id"]: tid_of(held_doc), plain["order_id"]: tid_of(plain_doc)}
    traces = {oid: reviewed(await trace_of(gw, oid)) for oid in mine}

    # the saved version, and an unsaved draft that would also hold the other order, over the last hour
    since = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    draft = ruleset_doc(other, "wrap")
    reports = []
    for body in ({"last": 500, "from": since}, {"last": 500, "from": since, "draft": draft}):
        r = await gw.post(f"/api/order/rulesets/{rs}/dry-run", json=body)
        assert r.status_code == 200, r.text
        reports.append(r.json())
    saved, drafted = reports
    items = {x["order_id"]: x for x in saved["items"] if x["order_id"] in mine}
    assert set(items) == set(mine), saved["items"]
    h, p = items[held["order_id"]], items[plain["order_id"]]
    assert (h["would"]["holds"], h["actual"]["holds"], h["changes"]) == (
        ["buyer_message"],
        ["buyer_message"],
        [],
    )
    assert h["would"]["matched_rules"] == [f"rule {scoped['rule']} ({rs} v1)"]
    assert (p["would"]["holds"], p["changes"], p["actual"]["status"]) == ([], [], "allocated")
    assert saved["ruleset"] == f"{rs} v1" and saved["would_hold"] >= 1
    d_items = {x["order_id"]: x for x in drafted["items"] if x["order_id"] in mine}
    assert d_items[plain["order_id"]]["changes"] == ["would hold buyer_message"], d_items
    assert d_items[held["order_id"]]["changes"] == ["would not hold buyer_message"], d_items

    # nothing changed: the orders' status, history and trace are what they were
    for oid, was in mine.items():
        now = await order_of(gw, tids[oid])
        keep = ("status", "status_reason_code", "status_reason", "history")
        assert {k: now[k] for k in keep} == {k: was[k] for k in keep}
        assert reviewed(await trace_of(gw, oid)) == traces[oid]
    assert not await tasks_of(gw, held["order_id"])
