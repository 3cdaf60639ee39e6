"""`make demo`'s merge act (合单) against the e2e stack: two signed Tmall trades of one buyer to one address
are merged into one order when the demo strategy's window closes (its sources `merged` into it, its trace
says "merged from …"), which is shipped as one parcel, written back to both platform orders (the simulator
shows both shipped with the one waybill) and booked as a sale per platform order; the demo merge strategy is
disabled at the end."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from helpers import demo_poll

from omni_tools.demo_merge import STRATEGY, TRADES, merge_act, merge_tables

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]


async def test_the_demo_merges_two_trades_ships_once_writes_back_both_and_books_each(gw, e2e_stack):
    seen = await merge_act(gw, e2e_stack["sim"], demo_poll)
    tables = merge_tables(seen)  # what `make demo` prints, from what the act saw
    m, tids = seen["merged"], seen["tids"]
    assert len(tids) == len(TRADES) == 2
    assert (m["merge"]["kind"], m["status"]) == ("merged", "completed"), m.get("status_reason")
    sources = {s["order_id"]: s for s in m["merge"]["sources"]}
    assert sorted(s["channel_order_id"] for s in sources.values()) == sorted(tids)
    for s in seen["sources"]:
        assert (s["status"], s["merge"]["merged_into"]) == ("merged", m["order_id"]), s["status"]
        assert s["order_id"] in sources
    assert {x["source_order_id"] for x in m["goods"]["lines"]} == set(sources)
    assert m["money"]["paid_cents"] == sum(s["paid_cents"] for s in sources.values())
    assert any(d["why"].startswith("merged from") for d in seen["merge_trace"]), seen["merge_trace"]

    (task,) = seen["tasks"]  # one parcel for both trades
    assert task["status"] == "shipped", task
    wbs = seen["writebacks"]
    assert sorted((w["source_order_id"], w["channel_order_id"], w["state"]) for w in wbs) == sorted(
        (sid, s["channel_order_id"], "acknowledged") for sid, s in sources.items()
    ), wbs
    assert {w["tracking_no"] for w in wbs} == {task["tracking_no"]}
    for tid in tids:
        (shipped,) = seen["on_platform"][tid]
        assert shipped["out_sid"] == task["tracking_no"], shipped

    assert set(seen["vouchers"]) == set(sources)
    for sid, items in seen["vouchers"].items():
        (sale,) = [v for v in items if v["kind"] == "sale"]
        assert sale["order_id"] == sid and sale["total_cents"] == sources[sid]["paid_cents"], sale
        assert "via merged order" in sale["summary"], sale
    assert seen["merged_vouchers"] == []

    assert seen["strategy_enabled_after"] is False
    assert (await gw.get(f"/api/order/strategies/{STRATEGY}")).json()["doc"]["enabled"] is False
    assert [t.row_count for t in tables] == [
        3,
        len(seen["merge_trace"]),
        2,
        sum(map(len, seen["vouchers"].values())),
    ]
