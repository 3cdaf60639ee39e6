"""The consumer wiring end to end on real Kafka: the service's own ConsumerSpecs, moved to fresh topics."""

from __future__ import annotations

import dataclasses
import uuid

import pytest
from inventory_helpers import cancelled, outbox, receive, requested, rows, shipped, stock_of, uid

from omni_chassis import dlq
from omni_chassis.kafka import make_producer
from omni_chassis.testing import eventually, running_consumers
from omni_inventory import consumers, store

pytestmark = pytest.mark.integration


async def _publish(bootstrap, topic, envs):
    producer = make_producer(bootstrap, "omni-test-inventory-pub")
    await producer.start()
    try:
        for env in envs:
            await producer.send_and_wait(topic, env.to_bytes(), key=env.key.encode(), headers=env.headers())
    finally:
        await producer.stop()


async def _count(db, sql, **params):
    return (await rows(db, sql, **params))[0][0]


async def test_batches_from_kafka_reserve_consume_release_and_dead_letter(kafka_bootstrap, db, fresh_topic):
    fulfillment_topic = await fresh_topic("omni.test.fulfillment")
    order_topic = await fresh_topic("omni.test.order")
    prefix = f"test-{uuid.uuid4().hex[:8]}."
    on_fulfillment, on_order = consumers.specs()[:2]
    # a group each, hence a DLQ each
    assert (on_fulfillment.group, on_order.group) == ("inventory-fulfillment", "inventory-orders")
    group, order_group = prefix + on_fulfillment.group, prefix + on_order.group
    specs = [
        dataclasses.replace(on_fulfillment, topics=[fulfillment_topic], group=group),
        dataclasses.replace(on_order, topics=[order_topic], group=order_group),
    ]
    node = uid("WH")
    await receive(db, node, {"A": 3})

    # Five orders want one A each from a node that has three: published before the consumers start, so
    # they arrive in batches.
    orders = [uid("O") for _ in range(5)]
    reqs = [requested(uid("R"), o, node, {"A": 1}) for o in orders]
    await _publish(kafka_bootstrap, fulfillment_topic, reqs)
    await _publish(kafka_bootstrap, fulfillment_topic, [reqs[0]])  # a redelivery: the inbox absorbs it

    async with running_consumers(kafka_bootstrap, db, specs, repository=store.Repository):
        await eventually(lambda: _count(db, "SELECT count(*) = 5 FROM reservations"))
        by_status = dict(await rows(db, "SELECT status, count(*) FROM reservations GROUP BY status"))
        assert by_status == {"reserved": 3, "refused": 2}
        held = [
            r.reservation_id for r in await rows(db, "SELECT * FROM reservations WHERE status='reserved'")
        ]
        held_orders = {r.reservation_id: r.order_id for r in await rows(db, "SELECT * FROM reservations")}

        # Ship the first held one, cancel the second's order, and ship against a reservation nobody knows.
        ghost = uid("R")
        await _publish(
            kafka_bootstrap,
            fulfillment_topic,
            [
                shipped(held[0], held_orders[held[0]], node, {"A": 1}),
                shipped(ghost, uid("O"), node, {"A": 1}, task_id="T-ghost"),
            ],
        )
        await _publish(kafka_bootstrap, order_topic, [cancelled(held_orders[held[1]])])

        await eventually(
            lambda: _count(
                db, "SELECT count(*) = 2 FROM reservations WHERE status IN ('consumed','released')"
            )
        )
        letters = await eventually(lambda: dlq.read_all(kafka_bootstrap, group))

    statuses = dict(await rows(db, "SELECT reservation_id, status FROM reservations"))
    assert (statuses[held[0]], statuses[held[1]], statuses[held[2]]) == ("consumed", "released", "reserved")
    row = await stock_of(db, node, "A")
    assert (row.on_hand, row.reserved) == (2, 1)
    assert await _count(db, "SELECT count(*) FROM movements WHERE kind = 'reservation'") == 3
    assert len(await outbox(db, "inventory.reserved")) == 3, "the redelivered request was not answered twice"
    assert len(await outbox(db, "inventory.reservation-refused")) == 2
    assert len(await outbox(db, "inventory.reservation-consumed")) == 1
    assert len(await outbox(db, "inventory.reservation-released")) == 1
    (letter,) = letters
    assert letter.info["event_type"] == "fulfillment.shipped"
    assert f"reservation {ghost}, which inventory does not know" in letter.info[dlq.H_ERROR]
    assert letter.info[dlq.H_ERROR_TYPE] == "PermanentError"
    assert await dlq.read_all(kafka_bootstrap, order_group) == [], "the orders consumer's own DLQ is empty"
    inbox = dict(await rows(db, "SELECT consumer, count(*) FROM inbox GROUP BY consumer"))
    assert set(inbox) == {group, order_group}, "each consumer keeps its own inbox"
