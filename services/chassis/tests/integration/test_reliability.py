"""The chassis's promises, on the real broker and the real database."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy import text
from typer.testing import CliRunner

from omni_chassis import dlq as dlq_mod
from omni_chassis import metrics
from omni_chassis.cli import app as cli
from omni_chassis.consumer import ConsumerSpec
from omni_chassis.kafka import make_producer
from omni_chassis.outbox import build, emit, stage
from omni_chassis.testing import eventually, running_consumers, running_relay
from omni_contracts import dlq_topic
from omni_contracts.events.diagnostics import ProbeV1

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from probe_app import EFFECTS_DDL, record_effect  # noqa: E402

pytestmark = pytest.mark.integration


async def _effects_db(make_database, prefix):
    db = await make_database(prefix)
    async with db.transaction() as s:
        await s.execute(text(EFFECTS_DDL))
    return db


async def _scalar(db, sql, **params):
    async with db.transaction() as s:
        return (await s.execute(text(sql), params)).scalar()


async def _rows(db, sql, **params):
    async with db.transaction() as s:
        return list(await s.execute(text(sql), params))


async def _read_topic(bootstrap, topic, expect, timeout=20):
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        tps = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        out = []
        deadline = asyncio.get_running_loop().time() + timeout
        while len(out) < expect and asyncio.get_running_loop().time() < deadline:
            for recs in (await consumer.getmany(timeout_ms=500)).values():
                out.extend(recs)
        return out
    finally:
        await consumer.stop()


async def _publish_probes(bootstrap, topic, seqs, key="k"):
    producer = make_producer(bootstrap, "omni-test-pub")
    await producer.start()
    envs = []
    try:
        for seq in seqs:
            env = build(ProbeV1(seq=seq, sent_at_ns=0), key=key)
            envs.append(env)
            await producer.send_and_wait(topic, env.to_bytes(), key=key.encode(), headers=env.headers())
    finally:
        await producer.stop()
    return envs


async def test_relay_killed_after_publishing_republishes_and_the_inbox_absorbs_it(
    kafka_bootstrap, make_database, fresh_topic
):
    topic = await fresh_topic()
    source = await make_database("outbox")
    sink = await _effects_db(make_database, "sink")
    async with source.transaction() as s:
        env = await emit(s, ProbeV1(seq=1, sent_at_ns=0), key="order-1", topic=topic)

    crashed = await asyncio.create_subprocess_exec(
        sys.executable,
        str(HERE / "probe_app.py"),
        "relay-crash",
        source.dsn,
        kafka_bootstrap,
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await asyncio.wait_for(crashed.communicate(), 60)
    assert crashed.returncode == 17, out
    assert await _scalar(source, "SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 1

    async with running_relay(kafka_bootstrap, source):
        await eventually(lambda: _scalar(source, "SELECT count(*) = 0 FROM outbox WHERE sent_at IS NULL"))

    copies = await _read_topic(kafka_bootstrap, topic, expect=2)
    assert len(copies) == 2, "the event must be on the topic twice: once per relay run"
    assert {dict(c.headers)["event_id"] for c in copies} == {str(env.event_id).encode()}

    async def handler(uow, e):
        session = uow.session
        await record_effect(session, "sink", e)

    dupes = metrics.EVENTS_DUPLICATE.labels("sink")
    before = dupes._value.get()

    async def both_copies_consumed():
        return dupes._value.get() - before >= 1

    async with running_consumers(kafka_bootstrap, sink, [ConsumerSpec("sink", [topic], handler=handler)]):
        await eventually(both_copies_consumed)
    assert await _scalar(sink, "SELECT count(*) FROM effects") == 1
    assert await _scalar(sink, "SELECT count(*) FROM inbox WHERE consumer = 'sink'") == 1


async def test_redelivered_event_changes_nothing(kafka_bootstrap, make_database, fresh_topic):
    topic = await fresh_topic()
    db = await _effects_db(make_database, "redeliver")
    (env,) = await _publish_probes(kafka_bootstrap, topic, [1])
    producer = make_producer(kafka_bootstrap, "omni-test-pub")
    await producer.start()
    for _ in range(2):  # the same event, delivered twice more
        await producer.send_and_wait(topic, env.to_bytes(), key=b"k", headers=env.headers())
    await producer.stop()
    (marker,) = await _publish_probes(kafka_bootstrap, topic, [2])

    async def handler(uow, e):
        session = uow.session
        await record_effect(session, "redeliver", e)

    async with running_consumers(kafka_bootstrap, db, [ConsumerSpec("redeliver", [topic], handler=handler)]):
        await eventually(lambda: _scalar(db, "SELECT count(*) FROM effects WHERE seq = 2"))
    rows = await _rows(db, "SELECT seq FROM effects ORDER BY pos")
    assert [r.seq for r in rows] == [1, 2]
    assert marker.event_id != env.event_id


@pytest.mark.parametrize("batch", [False, True], ids=["single", "batch"])
async def test_poison_message_is_dead_lettered_after_retries_and_the_rest_flow(
    kafka_bootstrap, make_database, fresh_topic, batch
):
    topic = await fresh_topic()
    group = f"poison-{uuid.uuid4().hex[:6]}"
    db = await _effects_db(make_database, "poison")
    attempts: dict[int, int] = {}
    healed = {"yes": False}

    async def handle(uow, e):
        session = uow.session
        attempts[e.data.seq] = attempts.get(e.data.seq, 0) + 1
        if e.data.seq == 2 and not healed["yes"]:
            raise RuntimeError("cannot handle seq 2")
        await record_effect(session, group, e)

    async def batch_handler(uow, envs):
        for e in envs:
            await handle(uow, e)

    envs = await _publish_probes(kafka_bootstrap, topic, [1, 2])
    producer = make_producer(kafka_bootstrap, "omni-test-pub")
    await producer.start()
    await producer.send_and_wait(
        topic, b"{not json", key=b"k", headers=[("event_type", b"diagnostics.probe")]
    )
    await producer.stop()
    envs += await _publish_probes(kafka_bootstrap, topic, [3, 4])

    spec = (
        ConsumerSpec(group, [topic], batch_handler=batch_handler)
        if batch
        else ConsumerSpec(group, [topic], handler=handle)
    )
    async with running_consumers(kafka_bootstrap, db, [spec], max_attempts=3):
        await eventually(lambda: _scalar(db, "SELECT count(*) = 3 FROM effects"))
        letters = await eventually(lambda: _dead(kafka_bootstrap, group, 2))
        assert attempts[2] == 3 + (1 if batch else 0), "N tries (plus the failed batch) then the DLQ"
        poison = next(d for d in letters if d.info.get("event_id") == str(envs[1].event_id))
        assert "RuntimeError: cannot handle seq 2" in poison.info[dlq_mod.H_ERROR]
        assert poison.info[dlq_mod.H_ATTEMPTS] == "3"
        assert poison.info[dlq_mod.H_TOPIC] == topic
        assert poison.info["event_type"] == "diagnostics.probe", "the original headers travel along"
        assert poison.value == envs[1].to_bytes()
        garbage = next(d for d in letters if d is not poison)
        assert "not JSON" in garbage.info[dlq_mod.H_ERROR]

        listing = await asyncio.to_thread(
            CliRunner().invoke,
            cli,
            ["dlq", "list", group],
            env={"KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "COLUMNS": "400"},
        )
        assert listing.exit_code == 0, listing.output
        assert "2 dead letter(s)" in listing.output and "cannot handle seq 2" in listing.output

        healed["yes"] = True
        result = await asyncio.to_thread(
            CliRunner().invoke,
            cli,
            ["dlq", "replay", group, "--at", f"{poison.partition}:{poison.offset}"],
            env={"KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap},
        )
        assert result.exit_code == 0, result.output
        await eventually(lambda: _scalar(db, "SELECT count(*) = 4 FROM effects"))
    assert sorted(r.seq for r in await _rows(db, "SELECT seq FROM effects")) == [1, 2, 3, 4]


async def _dead(bootstrap, group, n):
    letters = await dlq_mod.read_all(bootstrap, group)
    return letters if len(letters) >= n else None


async def test_replay_all_replays_each_dead_letter_once(kafka_bootstrap, fresh_topic):
    group = f"replay-{uuid.uuid4().hex[:6]}"
    from omni_chassis.kafka import create_topics

    await create_topics(kafka_bootstrap, [dlq_topic(group)], 1)
    topic = await fresh_topic()
    producer = make_producer(kafka_bootstrap, "omni-test")
    await producer.start()
    try:
        (env,) = await _publish_probes(kafka_bootstrap, topic, [1])
        record = (await _read_topic(kafka_bootstrap, topic, 1))[0]
        await dlq_mod.DeadLetters(producer).send(group, record, RuntimeError("boom"), attempts=3)
        first = await dlq_mod.replay_pending(kafka_bootstrap, producer, group)
        second = await dlq_mod.replay_pending(kafka_bootstrap, producer, group)
    finally:
        await producer.stop()
    assert [t for _, t in first] == [topic]
    assert second == []
    copies = await _read_topic(kafka_bootstrap, topic, 2)
    assert len(copies) == 2 and dict(copies[1].headers)["event_id"] == str(env.event_id).encode()
    assert dlq_mod.H_REPLAYED_FROM in dict(copies[1].headers)


async def test_order_per_key_is_kept_through_outbox_and_batches(kafka_bootstrap, make_database, fresh_topic):
    topic = await fresh_topic()
    source = await make_database("order-src")
    sink = await _effects_db(make_database, "order-sink")
    keys = [f"order-{i}" for i in range(5)]
    per_key = 120
    for chunk in range(4):  # several transactions, interleaved keys
        async with source.transaction() as s:
            envs = [
                (build(ProbeV1(seq=chunk * 30 + i, sent_at_ns=0), key=k), None)
                for i in range(30)
                for k in keys
            ]
            await stage(s, envs, topic)
    batches: list[int] = []

    async def batch_handler(uow, envs):
        session = uow.session
        batches.append(len(envs))
        for e in envs:
            await record_effect(session, "ordered", e)

    spec = ConsumerSpec("ordered", [topic], batch_handler=batch_handler, max_records=200)
    async with running_relay(kafka_bootstrap, source), running_consumers(kafka_bootstrap, sink, [spec]):
        await eventually(lambda: _scalar(sink, f"SELECT count(*) = {per_key * 5} FROM effects"), timeout=60)
    for k in keys:
        seqs = [r.seq for r in await _rows(sink, "SELECT seq FROM effects WHERE key = :k ORDER BY pos", k=k)]
        assert seqs == list(range(per_key)), f"order broken for {k}"
    assert max(batches) > 1, "the consumer must have handled real batches"


async def test_consumer_killed_before_commit_reprocesses_after_restart(
    kafka_bootstrap, make_database, fresh_topic, tmp_path
):
    topic = await fresh_topic(partitions=1)
    db = await _effects_db(make_database, "kill")
    await _publish_probes(kafka_bootstrap, topic, [1, 2, 3])
    group = f"kill-{uuid.uuid4().hex[:6]}"
    marker = tmp_path / "hung"
    script = [sys.executable, str(HERE / "probe_app.py"), "consume", db.dsn, kafka_bootstrap, topic, group]

    victim = subprocess.Popen([*script, "2", str(marker)])
    try:
        await eventually(lambda: _exists(marker), timeout=60)
        assert await _scalar(db, "SELECT array_agg(seq ORDER BY seq) FROM effects") == [1]
    finally:
        victim.kill()
        victim.wait(10)
    assert victim.returncode == -9
    assert await _scalar(db, "SELECT count(*) FROM effects WHERE seq = 2") == 0, "never committed"

    survivor = subprocess.Popen(script)
    try:
        await eventually(lambda: _scalar(db, "SELECT count(*) = 3 FROM effects"), timeout=90)
        await asyncio.sleep(1)
    finally:
        survivor.terminate()
        survivor.wait(20)
    assert [r.seq for r in await _rows(db, "SELECT seq FROM effects ORDER BY pos")] == [1, 2, 3]


async def _exists(path: Path) -> bool:
    return path.exists()
