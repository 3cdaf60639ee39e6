"""Backorders on real PostgreSQL (the migrations): made with their timer in the same transaction, re-sourced
by a receipt oldest first (order.accepted in the outbox), back in their first place when unfillable again,
escalated by the chassis timer loop, and listed by `GET /backorders`."""

from __future__ import annotations

import pytest
from order_db_helpers import (
    client_for,
    follow,
    order_database,
    outbox,
    project,
    rows,
    scalar,
    take_in,
    uow_for,
)
from order_factories import channel_order, envelope, product_events

from omni_chassis.timers import TimerLoop
from omni_contracts import utcnow
from omni_contracts.events.common import Shortfall
from omni_contracts.events.fulfillment import OrderUnfulfillableV1, SourcingStartedV1
from omni_contracts.events.inventory import StockChangedV4
from omni_order import service

pytestmark = pytest.mark.integration
BAGS = "BEAN-ETH-500"
TIMER = service.OVERDUE_TIMER
REASON = "not enough stock in any combination of active nodes: BEAN-ETH-500 needs 3, 1 available in total"


def gave_up(order_id: str, attempt: int = 1) -> list[object]:
    return [
        SourcingStartedV1(order_id=order_id, attempt=attempt, started_at=utcnow()),
        OrderUnfulfillableV1(
            order_id=order_id, reason=REASON, attempts=attempt,
            shortfall=[Shortfall(material_code=BAGS, requested=3, available=1)],
        ),
    ]  # fmt: skip


def receipt(available: int) -> object:
    d = StockChangedV4(
        node_code="WH-HZ", material_code=BAGS, on_hand=available, reserved=0, frozen=0, available=available,
        movement="receipt", seq=1, changed_at=utcnow(),
    )  # fmt: skip
    return envelope(d, key=f"WH-HZ:{BAGS}")


async def test_backorders_wait_re_source_oldest_first_keep_their_place_and_escalate(make_database):
    db = await order_database(make_database)
    await project(db, product_events())
    ids = []
    for _ in range(2):
        (oid,) = (await take_in(db, [envelope(channel_order())])).accepted
        await follow(db, gave_up(oid))
        ids.append(oid)
    o1, o2 = ids
    assert await scalar(db, "SELECT count(*) FROM orders WHERE status = 'backorder'") == 2
    assert await outbox(db, "order.exception-raised") == []
    timers = await rows(db, "SELECT key, due_at FROM timers WHERE kind = :k ORDER BY key", k=TIMER)
    due = dict(await rows(db, "SELECT order_id, due_at FROM order_backorders"))
    assert {(t.key, t.due_at) for t in timers} == set(due.items()) and set(due) == {o1, o2}

    async with client_for(db) as client:
        r = await client.get("/backorders", params={"material_code": BAGS, "limit": 1})
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["total"], body["next_offset"], [x["order_id"] for x in body["items"]]) == (2, 1, [o1])
        (first,) = body["items"]
        assert first["shortfall"] == [{"material_code": BAGS, "requested": 3, "available": 1, "missing": 2}]
        assert (first["times"], first["on_overdue"], first["age_s"] >= 0) == (1, "hold", True)
        assert (await client.get("/backorders", params={"shop_id": "NOPE"})).json()["total"] == 0
        bad = await client.get("/backorders", params={"limit": 0})
        assert bad.status_code == 422 and "limit" in bad.text

    # a receipt of 3 at WH-HZ: o1 (missing 2) is re-sourced, o2 (missing 2 more) waits behind it
    since = await scalar(db, "SELECT since FROM order_backorders WHERE order_id = :o", o=o1)
    assert await service.resource_backorders(uow_for(db), [receipt(3)]) == [o1]
    assert [x["data"]["order_id"] for x in await outbox(db, "order.accepted")][-1] == o1
    assert await scalar(db, "SELECT count(*) FROM timers WHERE key = :o", o=o1) == 0

    # fulfillment cannot fill it after all: it comes back, in its first place, and escalates at once
    await follow(db, gave_up(o1, attempt=2))
    back = (await rows(db, "SELECT since, times FROM order_backorders WHERE order_id = :o", o=o1))[0]
    assert (back.since, back.times) == (since, 2)
    await scalar(
        db, "UPDATE timers SET due_at = now() - interval '1 second' WHERE key = :o RETURNING 1", o=o1
    )
    loop = TimerLoop(db, lambda: uow_for(db), {TIMER: service.on_overdue})
    assert await loop.run_once() == 1
    held = (await rows(db, "SELECT status, status_reason_code FROM orders WHERE order_id = :o", o=o1))[0]
    assert tuple(held) == ("held", "backorder_overdue")
    assert await scalar(db, "SELECT escalation FROM order_backorders WHERE order_id = :o", o=o1) == "held"
    assert await scalar(db, "SELECT count(*) FROM timers WHERE key = :o", o=o1) == 0
