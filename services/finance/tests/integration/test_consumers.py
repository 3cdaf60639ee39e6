"""Finance's consumers on the real broker and database: vouchers from order and fulfillment events."""

from __future__ import annotations

import dataclasses
import json
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from omni_chassis import dlq as dlq_mod
from omni_chassis import metrics
from omni_chassis.consumer import PermanentError
from omni_chassis.testing import eventually, running_consumers
from omni_contracts import utcnow
from omni_finance import consumers, service, store
from omni_finance.domain import posting
from omni_finance.store import Repository

sys.path.insert(0, str(Path(__file__).parent))
from finance_factories import (
    ALL_LINES,
    GOODS,
    MIGRATIONS,
    accepted,
    cancelled,
    picked_up,
    publish,
    rows,
    scalar,
    shipped,
    shipped_v2,
    uid,
    uow,
    vouchers_of,
)

pytestmark = pytest.mark.integration

TWO_VOUCHERS = "SELECT count(*) = 2 FROM vouchers WHERE order_id = :o"
KIND_OF = "SELECT voucher_id, reverses_voucher_id FROM vouchers WHERE order_id = :o AND kind = :k"
NEW_VOUCHER = (
    "INSERT INTO vouchers (voucher_id, kind, source_event_id, source_event_type, summary, currency, "
    "total_cents, posted_at) VALUES (:v, 'sale', :e, 'x', 's', 'CNY', 100, now())"
)


@pytest.fixture
async def db(make_database):
    return await make_database("finance", migrations=MIGRATIONS)


async def _specs(fresh_topic):
    """The service's own consumer specs, on fresh topics with unique groups: (orders, shipments, topics)."""
    order_topic, ful_topic = await fresh_topic("omni.test.order"), await fresh_topic("omni.test.fulfillment")
    suffix = uuid.uuid4().hex[:8]
    by_group = {s.group: s for s in consumers.specs()}
    orders = dataclasses.replace(
        by_group[consumers.ORDERS_GROUP], topics=[order_topic], group=f"finance-orders-{suffix}"
    )
    ships = dataclasses.replace(
        by_group[consumers.SHIPMENTS_GROUP], topics=[ful_topic], group=f"finance-shipments-{suffix}"
    )
    return orders, ships, order_topic, ful_topic


async def _outbox(db, order_id):
    out = []
    for r in await rows(db, "SELECT event_type, topic, key, value FROM outbox ORDER BY id"):
        value = json.loads(r.value)
        if value["data"]["order_id"] == order_id:
            out.append((r.event_type, r.topic, r.key, value))
    return out


async def test_accepted_then_shipped_posts_sale_and_revenue_and_emits_them(db, kafka_bootstrap, fresh_topic):
    orders, ships, order_topic, ful_topic = await _specs(fresh_topic)
    oid = uid("O")
    acc = accepted(oid)
    ship_env = shipped_v2(oid, ALL_LINES)
    async with running_consumers(kafka_bootstrap, db, [orders, ships], repository=Repository):
        await publish(kafka_bootstrap, order_topic, acc)
        await eventually(lambda: vouchers_of(db, oid))
        await publish(kafka_bootstrap, ful_topic, ship_env)
        await eventually(lambda: scalar(db, TWO_VOUCHERS, o=oid))

    assert await vouchers_of(db, oid) == [
        ("sale", [("1122", GOODS + 1000, 0), ("2205", 0, GOODS), ("2206", 0, 1000)]),
        ("revenue", [("2205", GOODS, 0), ("2206", 1000, 0), ("6001", 0, GOODS), ("6051", 0, 1000)]),
    ]
    emitted = await _outbox(db, oid)
    assert [(t, topic, key) for t, topic, key, _ in emitted] == [
        ("finance.voucher-posted", "omni.finance", oid),
        ("finance.voucher-posted", "omni.finance", oid),
    ]
    sale_event, revenue_event = emitted[0][3], emitted[1][3]
    assert sale_event["data"]["source_event_id"] == str(acc.event_id)
    assert sale_event["causation_id"] == str(acc.event_id)
    assert revenue_event["data"]["source_event_type"] == "fulfillment.shipped"
    assert [x["account_name"] for x in revenue_event["data"]["lines"]] == [
        "合同负债",
        "合同负债-运费",
        "主营业务收入",
        "其他业务收入-运费",
    ]
    status = await rows(db, "SELECT status, freight_recognized FROM orders WHERE order_id = :o", o=oid)
    assert [tuple(r) for r in status] == [("shipping", True)]


async def test_a_redelivered_event_posts_nothing_new(db, kafka_bootstrap, fresh_topic):
    orders, ships, order_topic, ful_topic = await _specs(fresh_topic)
    oid = uid("O")
    acc = accepted(oid)
    ship_env = shipped(oid, [("MACHINE-AUTO", 1)])
    dupes = metrics.EVENTS_DUPLICATE.labels(ships.group)
    async with running_consumers(kafka_bootstrap, db, [orders, ships], repository=Repository):
        await publish(kafka_bootstrap, order_topic, acc, acc)
        await eventually(lambda: vouchers_of(db, oid))
        await publish(kafka_bootstrap, ful_topic, ship_env, ship_env)
        await eventually(
            lambda: scalar(db, "SELECT count(*) FROM inbox WHERE event_id = :e", e=ship_env.event_id)
        )
        await eventually(lambda: _at_least(dupes, 1))
    assert [k for k, _ in await vouchers_of(db, oid)] == ["sale", "revenue"]
    assert len(await _outbox(db, oid)) == 2
    assert (
        await scalar(
            db,
            "SELECT recognized_cents FROM order_lines WHERE material_code = 'MACHINE-AUTO' AND order_id = :o",
            o=oid,
        )
        == 70_000
    )

    # Past the inbox (as if its row were lost): the business keys (order id, task id) make it a no-op...
    await service.handle_order_events(uow(db), [acc])
    await service.handle_shipments(uow(db), [ship_env])
    assert [k for k, _ in await vouchers_of(db, oid)] == ["sale", "revenue"]
    assert len(await _outbox(db, oid)) == 2
    # ...and the last fence, UNIQUE(source_event_id, kind), refuses a second voucher for the same event.
    _, sale = posting.accept(acc.data, posting.Source(acc.event_id, acc.event_type), utcnow())
    with pytest.raises(IntegrityError, match="vouchers_source_kind"):
        async with db.transaction() as s:
            await store.Repository(s).save(
                store.Writes({}, vouchers=[dataclasses.replace(sale, voucher_id=uuid.uuid4())]), utcnow()
            )
    assert [k for k, _ in await vouchers_of(db, oid)] == ["sale", "revenue"]


async def _at_least(counter, n):
    return counter._value.get() >= n


PARKED_FOR = "SELECT count(*) FROM parked WHERE waits_for = :k"


async def _dlq_empty(bootstrap, *groups):
    for g in groups:
        assert await dlq_mod.read_all(bootstrap, g, timeout_s=2) == [], g


async def test_a_shipment_before_its_order_is_parked_and_booked_when_the_order_arrives(
    db, kafka_bootstrap, fresh_topic
):
    orders, ships, order_topic, ful_topic = await _specs(fresh_topic)
    oid = uid("O")
    failures = metrics.HANDLER_FAILURES.labels(ships.group)
    async with running_consumers(kafka_bootstrap, db, [orders, ships], repository=Repository):
        await publish(kafka_bootstrap, ful_topic, picked_up(oid, ALL_LINES))
        await eventually(lambda: scalar(db, PARKED_FOR, k=f"order:{oid}"))
        assert await scalar(db, "SELECT count(*) FROM vouchers") == 0
        await publish(kafka_bootstrap, order_topic, accepted(oid))
        await eventually(lambda: scalar(db, TWO_VOUCHERS, o=oid), 30)
        await eventually(lambda: _no_parked(db))
    assert [k for k, _ in await vouchers_of(db, oid)] == ["sale", "revenue"]
    assert failures._value.get() == 0  # parked, not failed and retried
    await _dlq_empty(kafka_bootstrap, orders.group, ships.group)


async def _no_parked(db):
    return await scalar(db, "SELECT count(*) = 0 FROM parked")


async def test_an_orders_events_parked_behind_each_other_are_applied_in_order(
    db, kafka_bootstrap, fresh_topic
):
    orders, ships, order_topic, ful_topic = await _specs(fresh_topic)
    oid = uid("O")
    async with running_consumers(kafka_bootstrap, db, [orders, ships], repository=Repository):
        await publish(
            kafka_bootstrap,
            ful_topic,
            shipped_v2(oid, [("FILTER-100", 1)]),
            shipped_v2(oid, [("FILTER-100", 1)]),
        )

        async def both_parked():
            return await scalar(db, PARKED_FOR, k=f"order:{oid}") == 2

        await eventually(both_parked)
        await publish(kafka_bootstrap, order_topic, accepted(oid), cancelled(oid))

        async def done():
            cancelled_at = await scalar(db, "SELECT cancelled_at FROM orders WHERE order_id = :o", o=oid)
            return cancelled_at is not None and await _no_parked(db)

        await eventually(done, 30)
    got = await vouchers_of(db, oid)
    assert [k for k, _ in got] == ["sale", "revenue", "revenue"]  # the cancellation came after the goods left
    assert got[1][1] == [("2205", 334, 0), ("2206", 1000, 0), ("6001", 0, 334), ("6051", 0, 1000)]
    assert got[2][1] == [("2205", 333, 0), ("6001", 0, 333)]
    assert await scalar(db, "SELECT status FROM orders WHERE order_id = :o", o=oid) == "shipping"
    await _dlq_empty(kafka_bootstrap, orders.group, ships.group)


async def test_a_shipment_whose_order_never_comes_is_dead_lettered_after_the_max_age(
    db, kafka_bootstrap, fresh_topic
):
    _, ships, _, ful_topic = await _specs(fresh_topic)
    env = shipped(uid("O"), [("MACHINE-AUTO", 1)])
    async with running_consumers(
        kafka_bootstrap, db, [ships], repository=Repository, park_max_age_s=600
    ) as runtime:
        await publish(kafka_bootstrap, ful_topic, env)
        await eventually(lambda: scalar(db, PARKED_FOR, k=f"order:{env.data.order_id}"))
        async with db.transaction() as s:  # as if it had waited 11 minutes and its recheck were due
            await s.execute(
                text(
                    "UPDATE parked SET first_parked_at = now() - interval '11 minutes', "
                    "next_attempt_at = now()"
                )
            )
        runtime.parking.wake()

        async def dead():
            return await dlq_mod.read_all(kafka_bootstrap, ships.group, timeout_s=2)

        letters = await eventually(dead)
        await eventually(lambda: _no_parked(db))  # deleted once it is in the DLQ
    assert letters[0].info["event_id"] == str(env.event_id)
    assert f"waiting for order:{env.data.order_id}" in letters[0].info[dlq_mod.H_ERROR]
    assert await scalar(db, "SELECT count(*) FROM vouchers") == 0


async def test_cancel_before_shipment_reverses_and_after_shipment_posts_nothing(db):
    early, late = uid("O"), uid("O")
    # accepted and cancelled in one batch, in order
    await service.handle_order_events(uow(db), [accepted(early), accepted(late), cancelled(early)])
    await service.handle_shipments(uow(db), [shipped(late, [("FILTER-100", 1)])])
    await service.handle_order_events(uow(db), [cancelled(late), cancelled(early)])

    sale, reversal = await vouchers_of(db, early)
    assert reversal == ("reversal", [(c, cr, dr) for c, dr, cr in sale[1]])
    rev = await rows(
        db, "SELECT reverses_voucher_id FROM vouchers WHERE order_id = :o AND kind = 'reversal'", o=early
    )
    sale_id = await scalar(
        db, "SELECT voucher_id FROM vouchers WHERE order_id = :o AND kind = 'sale'", o=early
    )
    assert rev[0].reverses_voucher_id == sale_id
    assert [k for k, _ in await vouchers_of(db, late)] == ["sale", "revenue"]
    got = {r.order_id: r.status for r in await rows(db, "SELECT order_id, status FROM orders")}
    assert got == {early: "cancelled", late: "shipping"}
    # A shipment of the reversed order cannot become revenue: dead-lettered at once, not retried.
    with pytest.raises(PermanentError, match="cancelled"):
        await service.handle_shipments(uow(db), [shipped(early, [("FILTER-100", 1)])])


async def test_partial_shipments_in_one_batch_recognise_every_cent(db):
    oid = uid("O")
    await service.handle_order_events(uow(db), [accepted(oid)])
    # three shipments of one filter each, one batch
    await service.handle_shipments(uow(db), [shipped(oid, [("FILTER-100", 1)]) for _ in range(3)])
    revenue = [v for v in await vouchers_of(db, oid) if v[0] == "revenue"]
    assert [v[1][0][1] for v in revenue] == [334, 333, 333]
    assert [len(v[1]) for v in revenue] == [4, 2, 2]  # freight with the first only
    assert await scalar(
        db, "SELECT recognized_cents FROM order_lines WHERE order_id = :o AND line_no = 5", o=oid
    ) == (1000)


async def test_a_batch_of_many_orders_is_booked_in_one_go(db):
    ids = [uid("O") for _ in range(200)]
    await service.handle_order_events(uow(db), [accepted(o) for o in ids])
    await service.handle_shipments(uow(db), [shipped(o, ALL_LINES) for o in ids])
    assert await scalar(db, "SELECT count(*) FROM vouchers") == 400
    assert await scalar(db, "SELECT count(*) FROM outbox WHERE event_type = 'finance.voucher-posted'") == 400
    totals = await rows(
        db,
        "SELECT account_code, sum(debit_cents) - sum(credit_cents) FROM voucher_lines GROUP BY 1 ORDER BY 1",
    )
    n = len(ids)
    assert [tuple(r) for r in totals] == [
        ("1122", n * (GOODS + 1000)),
        ("2205", 0),
        ("2206", 0),
        ("6001", -n * GOODS),
        ("6051", -n * 1000),
    ]


async def test_the_database_refuses_an_unbalanced_voucher(db):
    vid = uuid.uuid4()
    with pytest.raises(IntegrityError, match="does not balance"):
        async with db.transaction() as s:
            await s.execute(text(NEW_VOUCHER), {"v": vid, "e": uuid.uuid4()})
            await s.execute(
                text("INSERT INTO voucher_lines VALUES (:v, 1, '1122', 100, 0), (:v, 2, '2205', 0, 99)"),
                {"v": vid},
            )
    with pytest.raises(IntegrityError, match="voucher_lines_one_side"):
        async with db.transaction() as s:
            await s.execute(text(NEW_VOUCHER), {"v": vid, "e": uuid.uuid4()})
            await s.execute(text("INSERT INTO voucher_lines VALUES (:v, 1, '1122', 100, 100)"), {"v": vid})
