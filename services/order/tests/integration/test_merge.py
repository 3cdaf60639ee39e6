"""Merge (合单) on real PostgreSQL (the migrations): two orders of one buyer wait in one window (one timer
row, set in the intake transaction), the chassis timer loop merges them into one order whose order.accepted
carries its sources, `GET /orders/{id}` shows both sides, and `POST /orders/{id}/unmerge` undoes it (409
once allocated)."""

from __future__ import annotations

import pytest
from order_db_helpers import client_for, order_database, outbox, project, rows, scalar, take_in, uow_for
from order_factories import channel_order, envelope, product_events

from omni_chassis.timers import TimerLoop
from omni_order import service
from omni_order.domain.rules.ruleset import StrategyDoc
from omni_order.service import rules

pytestmark = pytest.mark.integration
TIMER = "order.merge-window"


async def merging_shop(make_database):
    db = await order_database(make_database)
    await project(db, product_events())
    doc = StrategyDoc.model_validate({"name": "merge", "merge": {"enabled": True, "window_s": 600}})
    await rules.save(uow_for(db), "strategy", "merge", doc)
    return db


async def close_windows(db) -> int:
    await scalar(
        db, "UPDATE timers SET due_at = now() - interval '1 second' WHERE kind = :k RETURNING 1", k=TIMER
    )
    return await TimerLoop(db, lambda: uow_for(db), service.MERGE_TIMERS).run_once()


async def test_two_orders_merge_through_the_timer_and_unmerge_through_the_api(make_database):
    db = await merging_shop(make_database)
    (a,) = (await take_in(db, [envelope(channel_order())])).accepted
    (b,) = (await take_in(db, [envelope(channel_order())])).accepted
    (timer,) = await rows(db, "SELECT key, payload FROM timers WHERE kind = :k", k=TIMER)
    group = await scalar(db, "SELECT merge_group FROM orders WHERE order_id = :o", o=b)
    assert timer.key == group and timer.payload["max_lines"] == 50
    assert "张三" not in timer.key and "buyer-1" not in timer.key  # a hash, not the buyer's data
    assert await outbox(db, "order.accepted") == []

    assert await close_windows(db) == 1
    m = await scalar(db, "SELECT order_id FROM orders WHERE kind = 'merged'")
    srcs = await rows(db, "SELECT order_id, status, merged_into FROM orders WHERE kind = 'order' ORDER BY 1")
    assert [tuple(r) for r in srcs] == [(a, "merged", m), (b, "merged", m)]
    (acc,) = await outbox(db, "order.accepted")
    data = acc["data"]
    assert [s["order_id"] for s in data["sources"]] == [a, b]
    assert {x["source_order_id"] for x in data["lines"]} == {a, b}
    assert sum(s["paid_cents"] for s in data["sources"]) == data["paid_cents"]
    assert await scalar(db, "SELECT count(*) FROM order_lines WHERE order_id = :m", m=m) == 10
    assert await scalar(db, "SELECT count(*) FROM timers WHERE kind = :k", k=TIMER) == 0

    async with client_for(db) as client:
        view = (await client.get(f"/orders/{m}")).json()
        assert view["merge"]["kind"] == "merged" and [s["order_id"] for s in view["merge"]["sources"]] == [
            a,
            b,
        ]
        assert view["trade"]["channel_order_id"].count("+") == 1
        src = (await client.get(f"/orders/{a}")).json()
        assert (src["status"], src["merge"]["merged_into"]) == ("merged", m)
        trace = (await client.get(f"/orders/{m}/trace")).json()
        assert any(d["stage"] == "merge" and "merged from" in d["why"] for d in trace["decisions"])

        refused = await client.post(f"/orders/{a}/cancel", json={"reason": "buyer"})
        assert refused.status_code == 409 and f"merged into {m}" in refused.json()["detail"]

        done = await client.post(f"/orders/{b}/unmerge", json={"reason": "two parcels"})
        assert done.status_code == 200, done.text
        assert done.json()["order_id"] == m and done.json()["status"] == "cancelled"
        again = await client.post(f"/orders/{m}/unmerge", json={"reason": "again"})
        assert again.status_code == 409
    states = await rows(
        db, "SELECT order_id, status, merged_into FROM orders WHERE kind = 'order' ORDER BY 1"
    )
    assert [tuple(r) for r in states] == [(a, "accepted", None), (b, "accepted", None)]
    assert [e["data"]["order_id"] for e in await outbox(db, "order.cancelled")] == [m]
    assert [e["data"]["order_id"] for e in await outbox(db, "order.accepted")] == [m, a, b]


async def test_unmerge_is_refused_once_allocated(make_database):
    db = await merging_shop(make_database)
    await take_in(db, [envelope(channel_order()), envelope(channel_order())])
    await close_windows(db)
    m = await scalar(db, "SELECT order_id FROM orders WHERE kind = 'merged'")
    await scalar(db, "UPDATE orders SET status = 'allocated' WHERE order_id = :m RETURNING 1", m=m)
    async with client_for(db) as client:
        r = await client.post(f"/orders/{m}/unmerge", json={"reason": "late"})
    assert r.status_code == 409 and "only before it is allocated" in r.json()["detail"]
    assert await scalar(db, "SELECT count(*) FROM orders WHERE status = 'merged'") == 2
