"""Merge (合单) on the fake unit of work: a strategy's merge window holds a buyer's orders to one address,
its timer merges them into one order with its sources (order.accepted carries them), caps split a group,
unmerge undoes it, and cancels and platform closes go through the merged order."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from order_factories import channel_order, envelope, product_events
from order_fakes import fake_uow

from omni_contracts.events.channel import Address, ChannelOrderReceivedV2
from omni_order import service
from omni_order.domain.rules.ruleset import RuleSetDoc, StrategyDoc
from omni_order.service import rules

TIMER = "order.merge-window"
TIMERS = service.MERGE_TIMERS
AT = channel_order().created_at
ELSEWHERE = Address(name="李四", phone="13900000000", state="浙江省", city="杭州市", district="滨江区",
                    detail="江南大道 9 号")  # fmt: skip


MESSAGE_RULES = RuleSetDoc.model_validate({"name": "rs", "rules": [
    {"id": "msg", "name": "msg", "when": {"type": "message", "non_empty": True},
     "then": [{"type": "require_review", "reason": "the buyer wrote"}]},
]})  # fmt: skip


async def shop(*, review_messages: bool = False, **merge: Any) -> Any:
    uow = fake_uow()
    await service.project_catalog(uow, [envelope(e) for e in product_events()])
    settings = {"enabled": True, "window_s": 600} | merge
    doc: dict[str, Any] = {"name": "merge", "merge": settings}
    if review_messages:
        await rules.save(uow, "ruleset", "rs", MESSAGE_RULES)
        doc["ruleset_id"] = "rs"
    await rules.save(uow, "strategy", "merge", StrategyDoc.model_validate(doc))
    return uow


async def take(uow: Any, *docs: Any) -> list[str]:
    res = await service.intake(uow, [envelope(d) for d in docs])
    return res.accepted


def status(uow: Any, oid: str) -> tuple[str, str | None]:
    o = uow.repo.orders[oid]
    return o["status"], o["status_reason_code"]


def merged_orders(uow: Any) -> list[dict[str, Any]]:
    return [o for o in uow.repo.orders.values() if o.get("kind") == "merged"]


def decisions(uow: Any, oid: str) -> list[str]:
    return [f"{d['subject']}: {d['why']}" for d in uow.repo.decision_rows if d["order_id"] == oid]


async def test_two_orders_of_one_buyer_wait_then_merge_into_one_order_with_their_sources():
    uow = await shop()
    (a,) = await take(uow, channel_order())
    (b,) = await take(uow, channel_order(created_at=AT + timedelta(minutes=3)))  # another batch
    assert status(uow, a) == ("held", "merge_window") and status(uow, b) == ("held", "merge_window")
    (timer,) = [t for (k, _), t in uow.timers.items() if k == TIMER]
    assert timer.due_at == AT + timedelta(seconds=600)  # the first order's window: b joined it
    assert uow.of_type("order.accepted") == []
    assert await uow.fire_due(TIMERS, now=AT + timedelta(seconds=599)) == []

    assert len(await uow.fire_due(TIMERS, now=AT + timedelta(seconds=600))) == 1
    (m,) = merged_orders(uow)
    assert status(uow, a) == ("merged", "merged") and uow.repo.orders[a]["merged_into"] == m["order_id"]
    assert status(uow, b) == ("merged", "merged") and uow.repo.orders[b]["merged_into"] == m["order_id"]
    assert status(uow, m["order_id"]) == ("accepted", None)
    src_a, src_b = uow.repo.orders[a], uow.repo.orders[b]
    assert m["channel_order_id"] == f"{src_a['channel_order_id']}+{src_b['channel_order_id']}"
    assert m["paid_cents"] == src_a["paid_cents"] + src_b["paid_cents"]
    (ev,) = uow.of_type("order.accepted")
    d = ev.data
    assert d.order_id == m["order_id"]
    assert [s.order_id for s in d.sources] == [a, b]
    assert sum(s.paid_cents for s in d.sources) == d.paid_cents
    a_lines = [x for x in uow.repo.lines if x["order_id"] == a]
    assert [x.source_order_id for x in d.lines] == [a] * len(a_lines) + [b] * len(a_lines)
    assert sum(x.amount_cents for x in d.lines) == d.goods_paid_cents
    assert d.ship_to.name == "张三"  # the receiver, sealed for the merged order, opens for fulfillment
    assert any("merged from" in x and a in x and b in x for x in decisions(uow, m["order_id"]))
    assert any(f"merged into {m['order_id']}" in x for x in decisions(uow, a))
    assert any("joins the buyer's merge window" in x for x in decisions(uow, b))
    holds = [h for h in uow.repo.hold_rows if h["order_id"] in (a, b)]
    assert {(h["code"], h["ended_by"]) for h in holds} == {("merge_window", "merged")}


async def test_an_order_alone_in_its_window_goes_on_by_itself():
    uow = await shop()
    (a,) = await take(uow, channel_order())
    await uow.fire_due(TIMERS, now=AT + timedelta(hours=1))
    assert status(uow, a) == ("accepted", None) and merged_orders(uow) == []
    (ev,) = uow.of_type("order.accepted")
    assert ev.data.order_id == a and ev.data.sources == []
    assert any("no other order of the buyer came in the window" in x for x in decisions(uow, a))


async def test_another_address_or_another_buyer_is_another_group():
    uow = await shop()
    a, b, c = await take(uow, channel_order(), channel_order(receiver=ELSEWHERE),
                         channel_order(buyer_id="buyer-2"))  # fmt: skip
    groups = {uow.repo.orders[x]["merge_group"] for x in (a, b, c)}
    assert len(groups) == 3 and len([k for k in uow.timers if k[0] == TIMER]) == 3
    await uow.fire_due(TIMERS, now=AT + timedelta(hours=1))
    assert merged_orders(uow) == [] and {status(uow, x) for x in (a, b, c)} == {("accepted", None)}


async def test_the_caps_split_a_group_oldest_first():
    uow = await shop(max_lines=10)  # the reference order decomposes into 5 material lines
    a, b, c = await take(uow, *(channel_order(created_at=AT + timedelta(seconds=i)) for i in range(3)))
    await uow.fire_due(TIMERS, now=AT + timedelta(hours=1))
    (m,) = merged_orders(uow)
    assert [s["order_id"] for s in m["merge_sources"]] == [a, b]
    assert status(uow, c) == ("accepted", None)
    assert any("over the caps" in x and "lines 15 > 10" in x for x in decisions(uow, c))


async def test_presale_orders_and_orders_held_for_another_reason_do_not_wait():
    uow = await shop()
    pre = ChannelOrderReceivedV2(**(channel_order().model_dump() | {"presale_stage": "final_paid"}))
    (p,) = await take(uow, pre)
    assert status(uow, p) == ("accepted", None) and uow.timers == {}
    assert any("not merged: a presale order" in x for x in decisions(uow, p))


async def test_a_merge_strategy_with_a_zero_window_is_refused():
    uow = fake_uow()
    doc = StrategyDoc.model_validate({"name": "m", "merge": {"enabled": True, "window_s": 0}})
    with pytest.raises(rules.DocProblems) as err:
        await rules.save(uow, "strategy", "m", doc)
    assert [p.path for p in err.value.problems] == ["body.merge.window_s"]


async def merged_pair(**merge: Any) -> tuple[Any, str, str, str]:
    uow = await shop(**merge)
    a, b = await take(uow, channel_order(), channel_order())
    await uow.fire_due(TIMERS, now=AT + timedelta(hours=1))
    (m,) = merged_orders(uow)
    uow.committed_events.clear()
    return uow, m["order_id"], a, b


async def test_unmerge_cancels_the_merged_order_and_each_source_goes_on_alone():
    uow, m, a, b = await merged_pair()
    out = await service.unmerge(uow, a, "the buyer asked for two parcels")  # named through a source
    assert out == {"order_id": m, "status": "cancelled", "sources": [a, b]}
    assert status(uow, m) == ("cancelled", "unmerged")
    assert [e.data.order_id for e in uow.of_type("order.cancelled")] == [m]
    assert [e.data.order_id for e in uow.of_type("order.accepted")] == [a, b]
    assert all(e.data.sources == [] for e in uow.of_type("order.accepted"))
    assert status(uow, a) == ("accepted", None) and uow.repo.orders[a]["merged_into"] is None
    assert any("unmerged by an operator: the buyer asked" in x for x in decisions(uow, b))
    with pytest.raises(service.NotMergeable, match="not a merged order"):
        await service.unmerge(uow, a, "again")


async def test_unmerge_is_refused_once_the_merged_order_is_allocated():
    uow, m, a, _ = await merged_pair()
    uow.repo.orders[m]["status"] = "allocated"
    with pytest.raises(service.NotMergeable, match="only before it is allocated"):
        await service.unmerge(uow, m, "too late")
    assert status(uow, a) == ("merged", "merged") and uow.committed_events == []


async def test_a_source_is_cancelled_through_its_merged_order():
    uow, m, a, b = await merged_pair()
    with pytest.raises(service.MergedSource, match=f"merged into {m}"):
        await service.cancel(uow, a, "buyer")
    await service.cancel(uow, m, "out of business")
    assert [e.data.order_id for e in uow.of_type("order.cancelled")] == [m]  # M's reverses both sales
    assert status(uow, a) == ("cancelled", "merged_cancelled") and status(uow, b)[0] == "cancelled"


async def test_a_source_closed_on_the_platform_unmerges_and_the_other_goes_on():
    from omni_contracts.events.channel import ChannelOrderClosedV1

    uow, m, a, b = await merged_pair()
    src = uow.repo.orders[a]
    closed = ChannelOrderClosedV1(
        channel="tmall", shop_id=src["shop_id"], channel_order_id=src["channel_order_id"],
        channel_status="TRADE_CLOSED", reason="buyer_cancel", received_at=AT,
    )  # fmt: skip
    await service.apply_channel_aftersales(uow, envelope(closed, key=f"tmall:{src['channel_order_id']}"))
    assert status(uow, m)[0] == "cancelled" and status(uow, a)[0] == "cancelled"
    assert status(uow, b) == ("accepted", None)
    assert [e.data.order_id for e in uow.of_type("order.cancelled")] == [m]
    assert [e.data.order_id for e in uow.of_type("order.accepted")] == [b]


async def test_a_held_order_merges_and_the_merged_order_inherits_its_hold():
    """ONEX §13 #1 (real-time review that cannot merge): an order held for review still waits in the window
    and merges; the merged order is held on that hold, and released as one."""
    uow = await shop(review_messages=True)
    a, b = await take(uow, channel_order(buyer_message="请周末送"), channel_order())
    assert status(uow, a) == ("held", "manual_review") and status(uow, b) == ("held", "merge_window")
    await uow.fire_due(TIMERS, now=AT + timedelta(hours=1))
    (m,) = merged_orders(uow)
    m_id = m["order_id"]
    assert status(uow, m_id) == ("held", "manual_review") and uow.of_type("order.accepted") == []
    (hold,) = [h for h in uow.repo.hold_rows if h["order_id"] == m_id and h["ended_at"] is None]
    assert hold["reason"] == f"the buyer wrote (order {a})"
    assert {h["ended_by"] for h in uow.repo.hold_rows if h["order_id"] in (a, b)} == {"merged"}

    await service.release(uow, m_id, "read the message: fine")
    (ev,) = uow.of_type("order.accepted")
    assert ev.data.order_id == m_id and [s.order_id for s in ev.data.sources] == [a, b]


async def test_unmerging_a_held_merged_order_holds_again_the_source_whose_hold_it_inherited():
    uow = await shop(review_messages=True)
    a, b = await take(uow, channel_order(buyer_message="请周末送"), channel_order())
    await uow.fire_due(TIMERS, now=AT + timedelta(hours=1))
    (m,) = merged_orders(uow)
    await service.unmerge(uow, m["order_id"], "ship apart")
    assert status(uow, a) == ("held", "manual_review") and status(uow, b) == ("accepted", None)
    assert [e.data.order_id for e in uow.of_type("order.accepted")] == [b]
    (hold,) = [h for h in uow.repo.hold_rows if h["order_id"] == a and h["ended_at"] is None]
    assert hold["reason"] == "the buyer wrote"
    assert [h for h in uow.repo.hold_rows if h["order_id"] == m["order_id"] and h["ended_at"] is None] == []


async def test_a_return_on_a_source_of_a_shipped_merged_order_is_the_source_s_and_comes_back_where_it_left():
    """After-sales stays per source: the case, its lines and its money are the platform order's own; whether
    the goods left, and from where, is the merged order's."""
    from order_journeys import follow, started

    from omni_contracts.events.channel import ChannelRefundLine, ChannelRefundReceivedV1
    from omni_contracts.events.common import MaterialQty
    from omni_contracts.events.fulfillment import OrderAllocatedV1, ShippedV1, TaskRef

    uow, m, a, _ = await merged_pair()
    m_lines = [x for x in uow.repo.lines if x["order_id"] == m]
    every = [MaterialQty(material_code=x["material_code"], qty=x["qty"]) for x in m_lines]
    task = TaskRef(task_id="T1", node_code="WH-HZ", kind="ship", reservation_id="R1", lines=every)
    shipped = ShippedV1(task_id="T1", order_id=m, node_code="WH-HZ", reservation_id="R1", carrier="SF",
                        tracking_no="SF1", lines=every, shipped_at=AT)  # fmt: skip
    await follow(uow, started(m), OrderAllocatedV1(order_id=m, tasks=[task]), shipped)
    assert uow.repo.orders[m]["status"] == "shipped"
    coid, src_shop = uow.repo.orders[a]["channel_order_id"], uow.repo.orders[a]["shop_id"]
    for status_ in ("requested", "awaiting_return"):
        ev = ChannelRefundReceivedV1(
            channel="tmall", shop_id=src_shop, channel_order_id=coid, channel_refund_id="R1",
            kind="return_and_refund", status=status_, channel_status=status_.upper(), refund_cents=19_216,
            received_at=AT, lines=[ChannelRefundLine(channel_line_id="oid-2", qty=2, refund_cents=19_216)],
        )  # fmt: skip
        await service.apply_channel_aftersales(uow, envelope(ev, key=f"tmall:{coid}"))
    (case,) = uow.repo.cases.values()
    assert (case["order_id"], case["kind"], case["node_code"]) == (a, "return_and_refund", "WH-HZ")
    (expected,) = uow.of_type("order.return-expected")
    assert expected.data.order_id == a and [x.line_id for x in expected.data.lines] == [f"{a}-005"]


async def test_a_dry_run_after_a_merge_tries_the_platform_orders_not_the_merged_one():
    from omni_order.service.dryrun import dry_run

    uow = await shop(review_messages=True)
    a, b = await take(uow, channel_order(), channel_order())
    await uow.fire_due(TIMERS, now=AT + timedelta(hours=1))
    (m,) = merged_orders(uow)
    report = await dry_run(uow, "rs")
    assert sorted(x["order_id"] for x in report["items"]) == sorted([a, b])
    assert all(x["note"] is None for x in report["items"])
    # and an order Omni made itself (no channel lines) is said, not failed on
    uow.repo.orders[m["order_id"]]["kind"] = "order"
    said = {x["order_id"]: x["note"] for x in (await dry_run(uow, "rs"))["items"]}
    assert "not a platform order as received" in said[m["order_id"]]
