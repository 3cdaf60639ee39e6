"""Parking, failure classes and error hygiene, on the real broker and database."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import text

from omni_chassis import dlq as dlq_mod
from omni_chassis.consumer import ConsumerSpec, WaitingFor
from omni_chassis.dlq import H_ERROR
from omni_chassis.kafka import make_producer
from omni_chassis.outbox import EventTooLarge, build
from omni_chassis.testing import eventually, running_consumers
from omni_chassis.uow import SqlUnitOfWork
from omni_contracts.events.diagnostics import ProbeV1

pytestmark = pytest.mark.integration

DDL = [
    "CREATE TABLE facts (seq int PRIMARY KEY)",
    "CREATE TABLE effects (pos bigserial PRIMARY KEY, seq int NOT NULL, event_id uuid NOT NULL)",
    "CREATE TABLE buyers (phone text UNIQUE)",
]


async def _db(make_database):
    db = await make_database("park")
    async with db.transaction() as s:
        for ddl in DDL:
            await s.execute(text(ddl))
    return db


async def _scalar(db, sql, **params):
    async with db.transaction() as s:
        return (await s.execute(text(sql), params)).scalar()


async def _publish(bootstrap, topic, seqs, body=""):
    producer = make_producer(bootstrap, "omni-test-pub")
    await producer.start()
    try:
        for seq in seqs:
            env = build(ProbeV1(seq=seq, sent_at_ns=0, body=body), key=f"k{seq}")
            await producer.send_and_wait(topic, env.to_bytes(), key=env.key.encode(), headers=env.headers())
    finally:
        await producer.stop()


@pytest.mark.parametrize("batch", [False, True], ids=["single", "batch"])
async def test_an_event_before_its_fact_is_parked_then_applied_when_the_fact_arrives(
    kafka_bootstrap, make_database, fresh_topic, batch
):
    db = await _db(make_database)
    facts_topic, deps_topic = await fresh_topic(), await fresh_topic()
    g = uuid.uuid4().hex[:6]

    async def on_fact(uow, env):
        await uow.session.execute(text("INSERT INTO facts VALUES (:s)"), {"s": env.data.seq})
        uow.release(f"fact:{env.data.seq}")

    async def apply_dependent(uow, env):
        await uow.session.execute(
            text("INSERT INTO effects (seq, event_id) VALUES (:s, :e)"),
            {"s": env.data.seq, "e": env.event_id},
        )

    async def has_fact(uow, seq):
        return await uow.session.scalar(text("SELECT 1 FROM facts WHERE seq = :s"), {"s": seq})

    async def on_dependent(uow, env):
        if not await has_fact(uow, env.data.seq):
            raise WaitingFor(f"fact:{env.data.seq}", f"fact {env.data.seq} has not arrived")
        await apply_dependent(uow, env)

    async def on_dependents(uow, envs):
        for env in envs:
            if await has_fact(uow, env.data.seq):
                await apply_dependent(uow, env)
            else:
                uow.park(env, f"fact:{env.data.seq}")

    deps = (
        ConsumerSpec(f"deps-{g}", [deps_topic], batch_handler=on_dependents)
        if batch
        else ConsumerSpec(f"deps-{g}", [deps_topic], handler=on_dependent)
    )
    specs = [ConsumerSpec(f"facts-{g}", [facts_topic], handler=on_fact), deps]
    async with running_consumers(kafka_bootstrap, db, specs):
        await _publish(kafka_bootstrap, deps_topic, range(20))
        await eventually(lambda: _scalar(db, "SELECT count(*) = 20 FROM parked"))
        assert await _scalar(db, "SELECT count(*) FROM effects") == 0
        await _publish(kafka_bootstrap, facts_topic, range(20))
        await eventually(lambda: _scalar(db, "SELECT count(*) = 20 FROM effects"), timeout=30)
        assert await _scalar(db, "SELECT count(*) FROM parked") == 0
        # a redelivery of a dependent that was parked and applied changes nothing
        await _publish(kafka_bootstrap, facts_topic, [100])
        await eventually(lambda: _scalar(db, "SELECT count(*) = 21 FROM facts"))
    assert await _scalar(db, "SELECT count(DISTINCT seq) FROM effects") == 20
    assert await dlq_mod.read_all(kafka_bootstrap, f"deps-{g}", timeout_s=3) == []


async def test_an_event_whose_fact_never_arrives_goes_to_the_dlq_after_the_bound(
    kafka_bootstrap, make_database, fresh_topic
):
    db = await _db(make_database)
    topic = await fresh_topic()
    group = f"orphan-{uuid.uuid4().hex[:6]}"

    async def on_dependent(uow, env):
        raise WaitingFor(f"fact:{env.data.seq}")

    spec = ConsumerSpec(group, [topic], handler=on_dependent)
    async with running_consumers(kafka_bootstrap, db, [spec], park_max_age_s=2):
        await _publish(kafka_bootstrap, topic, [7])
        dead = await eventually(lambda: dlq_mod.read_all(kafka_bootstrap, group, timeout_s=2), timeout=30)
        await eventually(lambda: _scalar(db, "SELECT count(*) = 0 FROM parked"))
    assert "waiting for fact:7" in dead[0].info[H_ERROR]


async def test_a_poison_event_with_a_phone_leaves_no_phone_in_dlq_headers_or_logs(
    kafka_bootstrap, make_database, fresh_topic, capfd
):
    db = await _db(make_database)
    topic = await fresh_topic()
    group = f"pii-{uuid.uuid4().hex[:6]}"
    phone = "13912345678"

    async def on_buyer(uow, env):
        # a unique violation: PostgreSQL's DETAIL names the key value, SQLAlchemy's message the parameters
        await uow.session.execute(text("INSERT INTO buyers VALUES (:p), (:p)"), {"p": env.data.body})

    spec = ConsumerSpec(group, [topic], handler=on_buyer)
    async with running_consumers(kafka_bootstrap, db, [spec], max_attempts=2):
        await _publish(kafka_bootstrap, topic, [1], body=phone)
        dead = await eventually(lambda: dlq_mod.read_all(kafka_bootstrap, group, timeout_s=2), timeout=30)
    headers = dead[0].info
    assert "IntegrityError" in headers[H_ERROR]
    assert all(phone not in v for v in headers.values()), headers
    out = capfd.readouterr()
    assert "handler failed" in out.out + out.err
    assert phone not in out.out + out.err


async def test_an_event_too_large_for_the_broker_is_refused_when_staged(make_database):
    db = await _db(make_database)
    uow = SqlUnitOfWork(db)
    with pytest.raises(EventTooLarge, match=r"limit is 1,000,000 bytes"):
        async with uow:
            await uow.session.execute(text("INSERT INTO facts VALUES (1)"))
            uow.emit(ProbeV1(seq=1, sent_at_ns=0, body="x" * 1_100_000), key="k")
    assert await _scalar(db, "SELECT count(*) FROM outbox") == 0
    assert await _scalar(db, "SELECT count(*) FROM facts") == 0, "the caller's writes were half-applied"


async def test_parked_rows_survive_only_once_between_two_loops(kafka_bootstrap, make_database, fresh_topic):
    """Two parking loops (two replicas) on the same due rows: one applies at a time, each row once."""
    db = await _db(make_database)
    topic = await fresh_topic()
    group = f"twin-{uuid.uuid4().hex[:6]}"
    released = asyncio.Event()

    async def on_dependent(uow, env):
        if not released.is_set():
            raise WaitingFor(f"fact:{env.data.seq}")
        await uow.session.execute(
            text("INSERT INTO effects (seq, event_id) VALUES (:s, :e)"),
            {"s": env.data.seq, "e": env.event_id},
        )

    spec = ConsumerSpec(group, [topic], handler=on_dependent)
    async with running_consumers(kafka_bootstrap, db, [spec]) as rt:
        await _publish(kafka_bootstrap, topic, range(30))
        await eventually(lambda: _scalar(db, "SELECT count(*) = 30 FROM parked"))
        released.set()
        async with db.transaction() as s:
            await s.execute(text("UPDATE parked SET next_attempt_at = now()"))
        from omni_chassis.parking import ParkingLoop

        twin = ParkingLoop(rt, poll_s=0.1)
        # while one loop applies (holds the loop's lock), the other applies nothing: no side-by-side
        # application of rows parked on the same fact, out of their order
        from omni_chassis.parking import _LOCK_KEY

        async with db.engine.connect() as other, other.begin():
            await other.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
            assert await twin.run_once([group]) == 0
            assert await _scalar(db, "SELECT count(*) FROM parked") == 30
        counts = await asyncio.gather(twin.run_once([group]), rt.parking.run_once([group]))
        assert sorted(counts)[0] == 0, "one of the two loops held the lock: the other did nothing"
        await eventually(lambda: _scalar(db, "SELECT count(*) = 0 FROM parked"))
    assert await _scalar(db, "SELECT count(*) FROM effects") == 30
