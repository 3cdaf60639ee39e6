"""Forward compatibility on the real broker: a consumer built against omni-contracts that knows only v1 of
fulfillment.shipped / fulfillment.picked-up keeps working while producers publish v2 (lines carry the order's
line id), through the outbox, the relay, Kafka, the inbox and PostgreSQL. Only what it truly cannot read goes
to its dead-letter topic."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from omni_chassis import dlq as dlq_mod
from omni_chassis.consumer import ConsumerSpec
from omni_chassis.kafka import make_producer
from omni_chassis.outbox import build, emit
from omni_chassis.testing import eventually, running_consumers, running_relay
from omni_contracts import REGISTRY
from omni_contracts.events.fulfillment import PickedUpV2, ShippedLine, ShippedV1, ShippedV2

pytestmark = pytest.mark.integration

AT = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
SEEN_DDL = (
    "CREATE TABLE seen (consumer text NOT NULL, event_id uuid NOT NULL, event_type text NOT NULL,"
    " read_as int NOT NULL, wire_version int, model text NOT NULL, lines jsonb NOT NULL,"
    " PRIMARY KEY (consumer, event_id))"
)


def v1_only():
    """The registry of a consumer built before v2 existed."""
    reg = REGISTRY.pinned({"fulfillment.shipped": 1, "fulfillment.picked-up": 1})
    assert reg.versions("fulfillment.shipped") == [1] and reg.versions("fulfillment.picked-up") == [1]
    return reg


def shipped(i: int, version: int):
    common = dict(
        task_id=f"T{i}", order_id=f"O{i}", node_code="WH-HZ", reservation_id=f"R{i}", carrier="SF",
        tracking_no=f"SF{i}", shipped_at=AT,
    )  # fmt: skip
    if version == 1:  # a producer not yet upgraded
        return ShippedV1(**common, lines=[{"material_code": "BEAN", "qty": i + 1}])
    return ShippedV2(**common, lines=[ShippedLine(line_id=f"O{i}-1", material_code="BEAN", qty=i + 1)])


def picked_up(i: int) -> PickedUpV2:
    return PickedUpV2(
        task_id=f"P{i}", order_id=f"O{i}", node_code="ST-1", reservation_id=f"RP{i}", picked_up_at=AT,
        lines=[ShippedLine(line_id=f"O{i}-2", material_code="MUG", qty=1)],
    )  # fmt: skip


async def _record(session, consumer: str, env) -> None:
    await session.execute(
        text(
            "INSERT INTO seen (consumer, event_id, event_type, read_as, wire_version, model, lines)"
            " VALUES (:c, :e, :t, :v, :w, :m, CAST(:l AS jsonb))"
        ),
        {
            "c": consumer, "e": env.event_id, "t": env.event_type, "v": env.event_version,
            "w": env.read_forward_from, "m": type(env.data).__name__,
            "l": json.dumps([x.model_dump() for x in env.data.lines]),
        },
    )  # fmt: skip


async def _rows(db, sql, **params):
    async with db.transaction() as s:
        return [tuple(r) for r in await s.execute(text(sql), params)]


async def test_a_consumer_pinned_to_v1_keeps_working_while_v2_is_produced(
    kafka_bootstrap, make_database, fresh_topic
):
    topic = await fresh_topic()
    source = await make_database("fwd_src")
    sink = await make_database("fwd_sink")
    async with sink.transaction() as s:
        await s.execute(text(SEEN_DDL))

    run = uuid.uuid4().hex[:8]  # fresh groups, so fresh dead-letter topics
    g_one, g_batch = f"fwd-one-{run}", f"fwd-batch-{run}"

    async def one(uow, env):  # handlers run in the chassis unit of work
        await _record(uow.session, g_one, env)

    async def batch(uow, envs):
        for env in envs:
            await _record(uow.session, g_batch, env)

    specs = [
        ConsumerSpec(g_one, [topic], handler=one),
        ConsumerSpec(g_batch, [topic], batch_handler=batch),
    ]
    sent = []
    async with running_consumers(kafka_bootstrap, sink, specs) as runtime:
        runtime.registry = pinned = v1_only()  # before anything is on the topic
        async with source.transaction() as s:  # producers publish through the outbox, as services do
            for i in range(12):
                sent.append(await emit(s, shipped(i, 1 if i % 4 == 0 else 2), key=f"O{i % 3}", topic=topic))
                if i % 3 == 0:
                    sent.append(await emit(s, picked_up(i), key=f"O{i % 3}", topic=topic))
        async with running_relay(kafka_bootstrap, source, name="fwd"):
            want = 2 * len(sent)

            async def all_handled():
                return (await _rows(sink, "SELECT count(*) FROM seen"))[0][0] >= want

            await eventually(all_handled, timeout=60)

    rows = await _rows(
        sink, "SELECT consumer, event_id, event_type, read_as, wire_version, model, lines FROM seen"
    )
    assert len(rows) == want, "each event handled exactly once per consumer"
    by_id = {env.event_id: env for env in sent}
    for consumer, event_id, event_type, read_as, wire_version, model, lines in rows:
        env = by_id[event_id]
        assert event_type == env.event_type
        assert read_as == 1, f"{consumer} read {event_type} as v{read_as}"
        assert wire_version == (2 if env.event_version == 2 else None)
        assert model == ("ShippedV1" if event_type == "fulfillment.shipped" else "PickedUpV1")
        assert lines == [{"material_code": x.material_code, "qty": x.qty} for x in env.data.lines]
    v2_count = sum(e.event_version == 2 for e in sent)
    assert v2_count >= 10
    assert pinned.forward_reads[("fulfillment.shipped", 2)] + pinned.forward_reads[
        ("fulfillment.picked-up", 2)
    ] == 2 * v2_count  # fmt: skip
    assert {r[0] for r in rows} == {g_one, g_batch}
    for group in (g_one, g_batch):
        assert await dlq_mod.read_all(kafka_bootstrap, group) == [], f"{group} dead-lettered something"


async def test_a_v2_the_v1_consumer_cannot_read_is_dead_lettered_and_the_next_one_is_handled(
    kafka_bootstrap, make_database, fresh_topic
):
    topic = await fresh_topic(partitions=1)
    sink = await make_database("fwd_bad")
    async with sink.transaction() as s:
        await s.execute(text(SEEN_DDL))

    group = f"fwd-bad-{uuid.uuid4().hex[:8]}"

    async def one(uow, env):
        await _record(uow.session, group, env)

    bad, good = build(shipped(1, 2), key="O1"), build(shipped(2, 2), key="O1")
    body = json.loads(bad.to_bytes())
    body["data"]["lines"][0]["qty"] = "two"  # a known field whose type no longer validates
    async with running_consumers(kafka_bootstrap, sink, [ConsumerSpec(group, [topic], handler=one)]) as rt:
        rt.registry = v1_only()
        producer = make_producer(kafka_bootstrap, "omni-test-fwd")
        await producer.start()
        try:
            await producer.send_and_wait(topic, json.dumps(body).encode(), key=b"O1", headers=bad.headers())
            await producer.send_and_wait(topic, good.to_bytes(), key=b"O1", headers=good.headers())
        finally:
            await producer.stop()

        async def good_handled():
            return await _rows(sink, "SELECT event_id FROM seen")

        assert await eventually(good_handled) == [(good.event_id,)]
    (letter,) = await dlq_mod.read_all(kafka_bootstrap, group)
    error = letter.info[dlq_mod.H_ERROR]
    assert letter.info["event_id"] == str(bad.event_id)
    assert "fulfillment.shipped v2 is newer than this consumer knows and cannot be read as v1" in error
    assert "data.lines.0.qty: Input should be a valid integer" in error
    assert "upgrade omni-contracts" in error
