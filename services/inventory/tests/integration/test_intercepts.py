"""Partial intercepts on real PostgreSQL and Kafka (service/intercepts.py, store_intercepts.py): the
service's own `inventory-fulfillment` consumer, moved to a fresh topic, takes the reservation request,
`fulfillment.lines-intercepted` and the shipment, in order on the order's key: exactly the intercepted
units leave `reserved` (a `release` ledger row, stock-changed staged), the reservation's lines go down, a
repeat changes nothing, and the shipment consumes only the rest; a reservation emptied is released whole."""

from __future__ import annotations

import dataclasses
import sys
import uuid
from pathlib import Path

import pytest
from inventory_helpers import handle, outbox, receive, requested, rows, shipped, stock_of, uid

from omni_chassis import dlq
from omni_chassis.kafka import make_producer
from omni_chassis.testing import eventually, running_consumers
from omni_inventory import consumers, store

sys.path.insert(0, str(Path(__file__).parents[1] / "unit"))
from fakes_intercepts import intercepted

pytestmark = pytest.mark.integration


async def _publish(bootstrap, topic, envs):
    producer = make_producer(bootstrap, "omni-test-inventory-intercepts")
    await producer.start()
    try:
        for env in envs:
            await producer.send_and_wait(topic, env.to_bytes(), key=env.key.encode(), headers=env.headers())
    finally:
        await producer.stop()


async def _handled(db, group: str, event_id) -> bool:
    found = await rows(db, "SELECT 1 FROM inbox WHERE consumer = :c AND event_id = :e", c=group, e=event_id)
    return bool(found)


async def test_intercepted_units_leave_the_reservation_once_and_the_shipment_takes_the_rest(
    kafka_bootstrap, db, fresh_topic
):
    node, a, b = uid("WH"), uid("A"), uid("B")
    await receive(db, node, {a: 5, b: 5})
    order, case = uid("O"), uid("AS")
    rid = f"{order}:1:{node}"
    topic = await fresh_topic("omni.test.fulfillment")
    (spec,) = [s for s in consumers.specs() if s.group == consumers.FULFILLMENT_GROUP]
    group = f"test-{uuid.uuid4().hex[:8]}.{spec.group}"
    specs = [dataclasses.replace(spec, topics=[topic], group=group)]
    cut = intercepted(case, rid, node, [(f"{order}-1", b, 1)], order_id=order)
    again = intercepted(case, rid, node, [(f"{order}-1", b, 1)], order_id=order)  # the same case, a new event
    ship = shipped(rid, order, node, {a: 1, b: 1})

    async with running_consumers(kafka_bootstrap, db, specs, repository=store.Repository):
        await _publish(kafka_bootstrap, topic, [requested(rid, order, node, {a: 1, b: 2}), cut])
        await eventually(lambda: _handled(db, group, cut.event_id))
        row = await stock_of(db, node, b)
        assert (row.on_hand, row.reserved) == (5, 1)
        (res,) = await rows(db, "SELECT status, lines FROM reservations WHERE reservation_id = :r", r=rid)
        assert res.status == "reserved"
        assert sorted((x["material_code"], x["qty"]) for x in res.lines) == sorted([(a, 1), (b, 1)])
        ledger = await rows(db, "SELECT material_code, kind, delta_reserved FROM movements "
                            "WHERE reference = :r AND kind = 'release'", r=rid)  # fmt: skip
        assert [tuple(x) for x in ledger] == [(b, "release", -1)]
        staged = await outbox(db, "inventory.stock-changed", key=f"{node}:{b}")
        assert (staged[-1]["data"]["movement"], staged[-1]["data"]["reserved"]) == ("release", 1)
        assert staged[-1]["causation_id"] == str(cut.event_id)

        await _publish(kafka_bootstrap, topic, [cut, again, ship])  # a redelivery, a repeat, the shipment
        await eventually(lambda: _handled(db, group, ship.event_id))

    assert [(r.on_hand, r.reserved) for r in (await stock_of(db, node, a), await stock_of(db, node, b))] == [
        (4, 0),
        (4, 0),
    ]
    (res,) = await rows(db, "SELECT status FROM reservations WHERE reservation_id = :r", r=rid)
    assert res.status == "consumed"
    applied = await rows(db, "SELECT case_id, line_id, qty, released FROM intercept_lines "
                         "WHERE reservation_id = :r", r=rid)  # fmt: skip
    assert [tuple(x) for x in applied] == [(case, f"{order}-1", 1, 1)]
    assert await dlq.read_all(kafka_bootstrap, group) == []


async def test_a_reservation_emptied_by_intercepts_is_released_whole(db):
    node, a = uid("WH"), uid("A")
    await receive(db, node, {a: 3})
    order = uid("O")
    rid = f"{order}:1:{node}"
    await handle(db, requested(rid, order, node, {a: 2}))
    await handle(db, intercepted(uid("AS"), rid, node, [(f"{order}-0", a, 2)], order_id=order))
    row = await stock_of(db, node, a)
    assert (row.on_hand, row.reserved) == (3, 0)
    (res,) = await rows(db, "SELECT status, lines FROM reservations WHERE reservation_id = :r", r=rid)
    assert (res.status, res.lines) == ("released", [{"material_code": a, "qty": 2}])
    (released,) = await outbox(db, "inventory.reservation-released", key=order)
    assert released["data"]["lines"] == [{"material_code": a, "qty": 2}]
