"""Fulfillment's events drive the order (real PostgreSQL, consumers on real Kafka): sourcing, allocated,
partially shipped, shipped, completed; shipped units per order line; exceptions; conflicts; a retry."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime

import pytest
from order_db_helpers import follow, order_database, outbox, project, publish, rows, scalar, take_in, uow_for
from order_factories import channel_order, envelope, product_events

from omni_chassis.consumer import PermanentError
from omni_chassis.testing import eventually, running_consumers
from omni_contracts.events.common import MaterialQty
from omni_contracts.events.fulfillment import (
    OrderAllocatedV1,
    OrderFulfilledV1,
    OrderUnfulfillableV1,
    PickedUpV1,
    ReservationRequestedV1,
    ShippedLine,
    ShippedV1,
    ShippedV2,
    SourcingStartedV1,
    TaskAcceptedV1,
    TaskRef,
)
from omni_order import consumers, service, store

pytestmark = pytest.mark.integration
AT = datetime(2024, 5, 2, 10, 0, tzinfo=UTC)


async def _accepted_order(db, **kw) -> str:
    result = await take_in(db, [envelope(channel_order(**kw))])
    (order_id,) = result.accepted
    return order_id


_follow = follow


async def _history(db, order_id):
    return await rows(
        db, "SELECT from_status, to_status, reason_code, reason, source FROM order_status_history "
        "WHERE order_id = :o ORDER BY id", o=order_id,
    )  # fmt: skip


def _lines(*pairs):
    return [MaterialQty(material_code=m, qty=q) for m, q in pairs]


def _started(order_id, attempt=1):
    return SourcingStartedV1(order_id=order_id, attempt=attempt, started_at=AT)


SET_AND_BEANS = (
    ("BEAN-YUNNAN-250G", 1), ("BEAN-ETHIOPIA-250G", 1), ("BEAN-COLOMBIA-250G", 1), ("MACHINE-AUTO-01", 1),
    ("BEAN-ETH-500", 3),
)  # fmt: skip


def _journey(order_id: str) -> list:
    """A two-node journey: the set from the Hangzhou warehouse, 2 bags of beans from it, 1 from a store."""
    wh = _lines(*SET_AND_BEANS[:4], ("BEAN-ETH-500", 2))
    store = _lines(("BEAN-ETH-500", 1))
    oid = order_id
    wh_v2 = [
        ShippedLine(line_id=f"{oid}-00{i}", material_code=x.material_code, qty=x.qty)
        for i, x in enumerate(wh, start=1)
    ]
    return [
        _started(oid),
        # fulfillment's command to inventory: not the order's business (the consumer skips it)
        ReservationRequestedV1(reservation_id="R1", order_id=oid, node_code="WH-HZ", lines=wh, attempt=1),
        ReservationRequestedV1(reservation_id="R2", order_id=oid, node_code="ST-1", lines=store, attempt=1),
        OrderAllocatedV1(order_id=order_id, tasks=[
            TaskRef(task_id="T1", node_code="WH-HZ", kind="ship", reservation_id="R1", lines=wh),
            TaskRef(task_id="T2", node_code="ST-1", kind="ship", reservation_id="R2", lines=store),
        ]),
        TaskAcceptedV1(task_id="T2", order_id=order_id, node_code="ST-1", accepted_by="clerk"),  # not ours
        ShippedV2(task_id="T1", order_id=order_id, node_code="WH-HZ", reservation_id="R1", carrier="SF",
                  tracking_no="SF100", lines=wh_v2, shipped_at=AT),  # v2: lines name their order lines
        ShippedV1(task_id="T2", order_id=order_id, node_code="ST-1", reservation_id="R2", carrier="ZTO",
                  tracking_no="ZT200", lines=store, shipped_at=AT),  # v1: matched by material
        OrderFulfilledV1(order_id=order_id, fulfilled_at=AT),
    ]  # fmt: skip


async def test_fulfillment_events_over_kafka_drive_the_order_to_completed(
    kafka_bootstrap, make_database, fresh_topic
):
    db = await order_database(make_database)
    await project(db, product_events())
    order_id = await _accepted_order(db)
    topic = await fresh_topic()
    journey = [envelope(e) for e in _journey(order_id)]
    late = envelope(_started(order_id, attempt=2))  # a late sourcing event after allocation: harmless
    await publish(kafka_bootstrap, topic, [*journey[:4], late, *journey[4:]])
    group = f"order-fulfillment-{uuid.uuid4().hex[:6]}"
    spec = dataclasses.replace(consumers.fulfillment_spec(), topics=[topic], group=group)
    async with running_consumers(kafka_bootstrap, db, [spec], repository=store.Repository):
        await eventually(
            lambda: scalar(db, "SELECT status = 'completed' FROM orders WHERE order_id = :o", o=order_id)
        )

    assert [(h.from_status, h.to_status) for h in await _history(db, order_id)] == [
        (None, "received"), ("received", "accepted"), ("accepted", "sourcing"), ("sourcing", "allocated"),
        ("allocated", "partially_shipped"), ("partially_shipped", "shipped"), ("shipped", "completed"),
    ]  # fmt: skip
    (o,) = await rows(db, "SELECT completed_at, role_fulfiller FROM orders WHERE order_id = :o", o=order_id)
    assert o.completed_at == AT and o.role_fulfiller == "node:ST-1,node:WH-HZ"
    allocation = await rows(
        db, "SELECT l.material_code, a.node_code, a.qty FROM order_line_allocations a JOIN order_lines l "
        "USING (line_id) WHERE a.order_id = :o ORDER BY l.position, a.node_code", o=order_id,
    )  # fmt: skip
    assert allocation == [
        ("BEAN-YUNNAN-250G", "WH-HZ", 1), ("BEAN-ETHIOPIA-250G", "WH-HZ", 1),
        ("BEAN-COLOMBIA-250G", "WH-HZ", 1),
        ("MACHINE-AUTO-01", "WH-HZ", 1), ("BEAN-ETH-500", "ST-1", 1), ("BEAN-ETH-500", "WH-HZ", 2),
    ]  # fmt: skip
    shipments = await rows(
        db, "SELECT task_id, node_code, carrier, tracking_no FROM order_shipments WHERE order_id = :o "
        "ORDER BY task_id", o=order_id,
    )  # fmt: skip
    assert shipments == [("T1", "WH-HZ", "SF", "SF100"), ("T2", "ST-1", "ZTO", "ZT200")]
    shipped = await rows(
        db, "SELECT task_id, line_id, qty, matched FROM order_shipment_lines WHERE order_id = :o "
        "ORDER BY task_id, line_id", o=order_id,
    )  # fmt: skip
    assert [tuple(x) for x in shipped] == [
        *((("T1", f"{order_id}-00{i}", 2 if i == 5 else 1, False)) for i in range(1, 6)),
        ("T2", f"{order_id}-005", 1, True),
    ]

    (completed,) = await outbox(db, "order.completed", key=order_id)
    assert completed["data"] == {"order_id": order_id, "completed_at": "2024-05-02T10:00:00Z"}
    assert completed["causation_id"] == str(journey[-1].event_id)
    changes = [
        (e["data"]["from_status"], e["data"]["to_status"]) for e in await outbox(db, "order.status-changed")
    ]
    assert changes == [
        ("received", "accepted"), ("accepted", "sourcing"), ("sourcing", "allocated"),
        ("allocated", "partially_shipped"), ("partially_shipped", "shipped"), ("shipped", "completed"),
    ]  # fmt: skip


async def test_unfulfillable_puts_the_order_in_exception_with_the_reason(make_database):
    db = await order_database(make_database)
    await project(db, product_events())
    order_id = await _accepted_order(db)
    reason = "no node holds 1 MACHINE-AUTO-01 (0 available at WH-HZ)"
    await _follow(
        db,
        [
            _started(order_id),
            OrderUnfulfillableV1(order_id=order_id, reason=reason, attempts=3),
            OrderUnfulfillableV1(order_id=order_id, reason=reason, attempts=3),  # said twice: ignored
        ],
    )  # fmt: skip
    (o,) = await rows(
        db, "SELECT status, status_reason_code, status_reason FROM orders WHERE order_id = :o", o=order_id
    )
    assert tuple(o) == ("exception", "unfulfillable", reason)
    assert (await _history(db, order_id))[-1] == (
        "sourcing",
        "exception",
        "unfulfillable",
        reason,
        "fulfillment",
    )
    (raised,) = await outbox(db, "order.exception-raised", key=order_id)
    assert raised["data"]["reason_code"] == "unfulfillable" and raised["data"]["reason"] == reason


async def test_store_pickup_is_shipped_when_picked_up(make_database):
    db = await order_database(make_database)
    await project(db, product_events())
    order_id = await _accepted_order(db, business_model="O2O", delivery="store_pickup", pickup_node="ST-1")
    lines = _lines(*SET_AND_BEANS)
    await _follow(
        db,
        [
            _started(order_id),
            OrderAllocatedV1(order_id=order_id, tasks=[
                TaskRef(task_id="T1", node_code="ST-1", kind="pickup", reservation_id="R1", lines=lines)]),
            PickedUpV1(task_id="T1", order_id=order_id, node_code="ST-1", reservation_id="R1", lines=lines,
                       picked_up_at=AT),
        ],
    )  # fmt: skip
    assert await scalar(db, "SELECT status FROM orders WHERE order_id = :o", o=order_id) == "shipped"
    assert await rows(db, "SELECT kind, carrier FROM order_shipments WHERE order_id = :o", o=order_id) == [
        ("pickup", None)
    ]


async def test_goods_leaving_for_a_cancelled_order_is_a_permanent_error_and_changes_nothing(make_database):
    db = await order_database(make_database)
    await project(db, product_events())
    order_id = await _accepted_order(db)
    await service.cancel(uow_for(db), order_id, "buyer asked")
    await _follow(db, [_started(order_id)])  # planning events after the cancellation are harmless: ignored
    before = await scalar(db, "SELECT count(*) FROM outbox")
    shipped = ShippedV1(task_id="T1", order_id=order_id, node_code="WH-HZ", reservation_id="R1", carrier="SF",
                        tracking_no="SF1", lines=_lines(*SET_AND_BEANS), shipped_at=AT)  # fmt: skip
    with pytest.raises(
        PermanentError, match=f"fulfillment.shipped for order {order_id} contradicts its status"
    ):
        await _follow(db, [shipped])
    assert await scalar(db, "SELECT status FROM orders WHERE order_id = :o", o=order_id) == "cancelled"
    assert await scalar(db, "SELECT count(*) FROM order_shipments") == 0
    assert await scalar(db, "SELECT count(*) FROM outbox") == before


async def test_an_event_for_an_unknown_order_is_a_permanent_error(make_database):
    db = await order_database(make_database)
    with pytest.raises(PermanentError, match="names order Onope, which this OMS does not know"):
        await _follow(db, [OrderFulfilledV1(order_id="Onope", fulfilled_at=AT)])


async def test_a_retried_unfulfillable_order_is_sourced_again_and_allocated(make_database):
    """Fulfillment gave up; the operator retries; fulfillment sources it again (it answers order.accepted)."""
    db = await order_database(make_database)
    await project(db, product_events())
    order_id = await _accepted_order(db)
    await _follow(
        db, [_started(order_id), OrderUnfulfillableV1(order_id=order_id, reason="no stock", attempts=3)]
    )
    await service.retry(uow_for(db), order_id)
    assert len(await outbox(db, "order.accepted", key=order_id)) == 2
    lines = _lines(*SET_AND_BEANS)
    await _follow(db, [
        _started(order_id, attempt=4),
        OrderAllocatedV1(order_id=order_id, tasks=[
            TaskRef(task_id="T9", node_code="WH-SH", kind="ship", reservation_id="R9", lines=lines)]),
    ])  # fmt: skip
    assert [(h.from_status, h.to_status) for h in await _history(db, order_id)][3:] == [
        ("sourcing", "exception"), ("exception", "accepted"), ("accepted", "sourcing"),
        ("sourcing", "allocated"),
    ]  # fmt: skip
    assert (
        await scalar(db, "SELECT count(*) FROM order_line_allocations WHERE order_id = :o", o=order_id) == 5
    )
