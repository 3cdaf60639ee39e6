"""fulfillment.sourcing-decided over Kafka into real PostgreSQL: one order_decisions row per node, in the
trace; a redelivered event (the same event id twice) writes its rows once; the status moves only by the
other events."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime

import pytest
from order_db_helpers import order_database, project, publish, rows, scalar, take_in, uow_for
from order_factories import channel_order, envelope, product_events

from omni_chassis.testing import eventually, running_consumers
from omni_contracts.events.common import MaterialQty
from omni_contracts.events.fulfillment import (
    NodeConsidered,
    OrderAllocatedV1,
    SourcingDecidedV1,
    SourcingStartedV1,
    TaskRef,
)
from omni_order import consumers, service, store

pytestmark = pytest.mark.integration
AT = datetime(2024, 5, 2, 10, 0, tzinfo=UTC)
LINES = [
    ("BEAN-YUNNAN-250G", 1), ("BEAN-ETHIOPIA-250G", 1), ("BEAN-COLOMBIA-250G", 1), ("MACHINE-AUTO-01", 1),
    ("BEAN-ETH-500", 3),
]  # fmt: skip


def _mq(pairs):
    return [MaterialQty(material_code=m, qty=q) for m, q in pairs]


async def test_sourcing_decisions_land_in_the_trace_once(kafka_bootstrap, make_database, fresh_topic):
    db = await order_database(make_database)
    await project(db, product_events())
    (oid,) = (await take_in(db, [envelope(channel_order())])).accepted
    decided = envelope(
        SourcingDecidedV1(
            order_id=oid, attempt=1, decided_at=AT, result="planned", lines=_mq(LINES),
            nodes=[
                NodeConsidered(node_code="WH-HZ", outcome="chosen", lines=_mq(LINES), distance_km=12.0,
                               why="holds every line; 12 km; priority 10"),
                NodeConsidered(node_code="WH-BJ", outcome="lost", distance_km=830.0,
                               why="lost: 830 km, farther than WH-HZ (12 km) with the same coverage"),
            ],
        )
    )  # fmt: skip
    allocated = OrderAllocatedV1(
        order_id=oid,
        tasks=[TaskRef(task_id="T1", node_code="WH-HZ", kind="ship", reservation_id="R1", lines=_mq(LINES))],
    )
    started = SourcingStartedV1(order_id=oid, attempt=1, started_at=AT)
    topic = await fresh_topic()
    await publish(kafka_bootstrap, topic, [envelope(started), decided, decided, envelope(allocated)])
    group = f"order-fulfillment-{uuid.uuid4().hex[:6]}"
    spec = dataclasses.replace(consumers.fulfillment_spec(), topics=[topic], group=group)
    async with running_consumers(kafka_bootstrap, db, [spec], repository=store.Repository):
        await eventually(
            lambda: scalar(db, "SELECT status = 'allocated' FROM orders WHERE order_id = :o", o=oid)
        )

    got = await rows(
        db, "SELECT subject, matched, why, effect FROM order_decisions "
        "WHERE order_id = :o AND stage = 'sourcing' ORDER BY id", o=oid,
    )  # fmt: skip
    effect = "ships " + ", ".join(f"{m}×{q}" for m, q in LINES)
    lost = "lost: 830 km, farther than WH-HZ (12 km) with the same coverage"
    assert [tuple(r) for r in got] == [
        ("node WH-HZ (attempt 1)", True, "holds every line; 12 km; priority 10", effect),
        ("node WH-BJ (attempt 1)", False, lost, "lost"),
    ]
    trace = await service.trace(uow_for(db), oid)
    assert [d["subject"] for d in trace["decisions"] if d["stage"] == "sourcing"] == [r.subject for r in got]
    history = await rows(
        db, "SELECT to_status FROM order_status_history WHERE order_id = :o ORDER BY id", o=oid
    )
    assert [h.to_status for h in history] == ["received", "accepted", "sourcing", "allocated"]


async def test_a_decision_for_an_unknown_order_is_ignored(make_database):
    db = await order_database(make_database)
    unknown = SourcingDecidedV1(order_id="O-nobody", attempt=1, decided_at=AT, result="unfulfillable")
    await service.follow_fulfillment(uow_for(db), [envelope(unknown)])
    assert await scalar(db, "SELECT count(*) FROM order_decisions") == 0
