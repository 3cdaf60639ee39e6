"""A partial refund before shipment intercepted by fulfillment, on real PostgreSQL and Kafka: the order's
own `order-fulfillment` consumer, moved to a fresh topic, takes fulfillment.lines-intercepted in order with
the allocation and the shipment; the case's history (GET /after-sales/{case}) notes what was held back
where, the allocation loses the units, and the remaining task's shipment ends the order shipped."""

from __future__ import annotations

import dataclasses
import uuid

import pytest
from order_db_helpers import (
    client_for,
    follow,
    order_database,
    project,
    publish,
    rows,
    scalar,
    take_in,
    uow_for,
)
from order_factories import channel_order, envelope, product_events
from order_intercepts import intercepted, partial_refund
from order_journeys import WH_LINES, shipped_v2, started, two_tasks

from omni_chassis import dlq
from omni_chassis.testing import eventually, running_consumers
from omni_order import consumers, store

pytestmark = pytest.mark.integration
BAG = "BEAN-ETH-500"


async def test_the_intercept_is_noted_on_the_case_and_the_order_ships_without_the_cancelled_task(
    kafka_bootstrap, make_database, fresh_topic
):
    db = await order_database(make_database)
    await project(db, product_events())
    order = channel_order()
    (oid,) = (await take_in(db, [envelope(order)])).accepted
    await follow(db, [started(oid)])
    await partial_refund(uow_for(db), order.channel_order_id, "oid-2", 1, 9_608)
    case_id = await scalar(db, "SELECT case_id FROM aftersales_cases WHERE order_id = :o", o=oid)

    topic = await fresh_topic()
    group = f"order-fulfillment-{uuid.uuid4().hex[:6]}"
    spec = dataclasses.replace(consumers.fulfillment_spec(), topics=[topic], group=group)
    cut = envelope(intercepted(oid, case_id, [(f"{oid}-005", BAG, 1, "T2", "ST-1", True)]))
    wh = [(f"{oid}-00{i}", m, q) for i, (m, q) in enumerate(WH_LINES[:4], start=1)]
    ship = envelope(shipped_v2(oid, "T1", [*wh, (f"{oid}-005", BAG, 2)]))
    async with running_consumers(kafka_bootstrap, db, [spec], repository=store.Repository):
        await publish(kafka_bootstrap, topic, [envelope(two_tasks(oid)), cut, cut, ship])  # + a redelivery
        await eventually(
            lambda: scalar(db, "SELECT status = 'shipped' FROM orders WHERE order_id = :o", o=oid)
        )

    history = await rows(db, "SELECT from_status, to_status FROM order_status_history WHERE order_id = :o "
                         "ORDER BY id", o=oid)  # fmt: skip
    assert [tuple(h) for h in history][-2:] == [("sourcing", "allocated"), ("allocated", "shipped")]
    tasks = await rows(db, "SELECT DISTINCT task_id FROM order_line_allocations WHERE order_id = :o", o=oid)
    assert [t.task_id for t in tasks] == ["T1"]
    async with client_for(db) as api:
        r = await api.get(f"/after-sales/{case_id}")
    assert r.status_code == 200, r.text
    (noted,) = [h for h in r.json()["history"] if h["source"] == "fulfillment"]
    assert noted["note"] == (
        f"fulfillment held back before shipment: 1 × {BAG} (line {oid}-005) at ST-1, its task T2 cancelled"
    )
    assert noted["to_state"] == r.json()["state"] == "refunded"
    assert await dlq.read_all(kafka_bootstrap, group) == []
