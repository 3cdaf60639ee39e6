"""Replicas of one service (`SCALE_<SERVICE>=N`), on the real broker and the real database.

Consumers: two group members (two KafkaBrokers, in two processes) in one consumer group on a 6-partition
topic, while events with a per-key sequence number keep coming: replica "a" runs alone, replica "b" joins
(rebalance), then "a" leaves (SIGTERM: a clean leave) or dies (SIGKILL: its partitions move after the session
timeout, its open transaction is rolled back). Every event must be applied exactly once and, per key, on top
of the effects of the one before it: the handler reads the key's last applied seq in its own transaction and
records it beside its own.

Outbox relays: two relays on one database (as every replica runs one). One holds the advisory lock and
publishes, the other stands by; when the active one stops or is killed, the other takes over; every row is
published, per key in order (a killed relay may leave a published batch unmarked: it is published again,
and the first copy of each event keeps the order).

The replica that leaves or dies is a subprocess running this file: `python test_replicas.py consume|relay …`.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import uuid
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from sqlalchemy import text

from omni_chassis.consumer import ConsumerSpec
from omni_chassis.db import Database
from omni_chassis.kafka import make_producer
from omni_chassis.outbox import OutboxRelay, build, emit
from omni_chassis.testing import eventually, running_consumers
from omni_contracts import REGISTRY
from omni_contracts.events.diagnostics import ProbeV1

pytestmark = pytest.mark.integration

HERE = Path(__file__).resolve()
KEYS = [f"order-{i}" for i in range(8)]
SESSION_TIMEOUT_MS = 6000  # the broker's minimum: a killed member is noticed this fast


# -- what a replica runs ---------------------------------------------------------------------------------
def _handler(table: str, replica: str, batch: bool) -> dict[str, Any]:
    """The ConsumerSpec handler argument: records (key, seq) and the key's seq it found applied before."""

    async def apply(session: Any, env: Any) -> None:
        prev = (
            await session.execute(text(f"SELECT max(seq) FROM {table} WHERE key = :k"), {"k": env.key})
        ).scalar()
        await session.execute(
            text(f"INSERT INTO {table} (replica, event_id, key, seq, prev) VALUES (:r, :e, :k, :s, :p)"),
            {"r": replica, "e": env.event_id, "k": env.key, "s": env.data.seq, "p": prev},
        )

    async def handler(uow: Any, env: Any) -> None:
        await apply(uow.session, env)

    async def batch_handler(uow: Any, envs: list[Any]) -> None:
        for env in envs:
            await apply(uow.session, env)

    return {"batch_handler": batch_handler} if batch else {"handler": handler}


def _spec(group: str, topic: str, table: str, replica: str, batch: bool) -> ConsumerSpec:
    return ConsumerSpec(
        group, [topic], session_timeout_ms=SESSION_TIMEOUT_MS, **_handler(table, replica, batch)
    )


async def _consume_main(
    dsn: str, bootstrap: str, topic: str, group: str, table: str, replica: str, mode: str
):
    db = Database(dsn)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with running_consumers(bootstrap, db, [_spec(group, topic, table, replica, mode == "batch")]):
        print("consuming", flush=True)
        await stop.wait()
    await db.dispose()


async def _relay_main(dsn: str, bootstrap: str, name: str) -> None:
    producer = make_producer(bootstrap, f"omni-test-relay-{name}")
    await producer.start()
    relay = OutboxRelay(dsn, producer, name=name, poll_interval_s=0.1)
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, relay.stop)
    print("relaying", flush=True)
    await relay.run()  # until SIGTERM (the batch in hand is published and marked first)
    await producer.stop()


class Replica:
    """A subprocess running this file; its output is read as it comes (a full pipe would block it)."""

    def __init__(self, proc: asyncio.subprocess.Process, output: asyncio.Task[bytes]) -> None:
        self.proc, self.output = proc, output

    @classmethod
    async def spawn(cls, *args: str) -> Replica:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, str(HERE), *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 60)
        assert line.strip() in (b"consuming", b"relaying"), line + await proc.stdout.read()
        return cls(proc, asyncio.create_task(proc.stdout.read()))

    async def end(self, how: str) -> None:
        """SIGKILL for "kill"; otherwise SIGTERM, which the replica handles by stopping cleanly."""
        self.proc.send_signal(signal.SIGKILL if how == "kill" else signal.SIGTERM)
        await asyncio.wait_for(self.proc.wait(), 60)
        out = await self.output
        if how != "kill":
            assert self.proc.returncode == 0, out.decode(errors="replace")[-3000:]

    async def reap(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
        await asyncio.gather(self.output, return_exceptions=True)


# -- helpers ---------------------------------------------------------------------------------------------
async def _scalar(db: Database, sql: str, **params: Any) -> Any:
    async with db.transaction() as s:
        return (await s.execute(text(sql), params)).scalar()


async def _rows(db: Database, sql: str, **params: Any) -> list[Any]:
    async with db.transaction() as s:
        return list(await s.execute(text(sql), params))


async def _produce(bootstrap: str, topic: str, stop: asyncio.Event, published: dict[str, int]) -> None:
    """One event per key every 40 ms (seq 1, 2, … per key), until `stop`; `published` has each key's last."""
    producer = make_producer(bootstrap, "omni-test-replicas-pub")
    await producer.start()
    try:
        seq = 0
        while not stop.is_set() and seq < 5000:
            seq += 1
            futures = []
            for key in KEYS:
                env = build(ProbeV1(seq=seq, sent_at_ns=0), key=key)
                futures.append(
                    await producer.send(topic, env.to_bytes(), key=key.encode(), headers=env.headers())
                )
            await asyncio.gather(*futures)
            for key in KEYS:
                published[key] = seq
            await asyncio.sleep(0.04)
    finally:
        await producer.stop()


async def _write_outbox(db: Database, topic: str, stop: asyncio.Event, written: dict[str, int]) -> None:
    """One transaction per round, a row per key (seq 1, 2, … per key), every 20 ms until `stop`."""
    seq = 0
    while not stop.is_set() and seq < 5000:
        seq += 1
        async with db.transaction() as s:
            for key in KEYS:
                await emit(s, ProbeV1(seq=seq, sent_at_ns=0), key=key, topic=topic)
        for key in KEYS:
            written[key] = seq
        await asyncio.sleep(0.02)


async def _read_all(bootstrap: str, topic: str, timeout: float = 60) -> list[Any]:
    """Every record on the topic, from the beginning up to its end offsets now, in partition order."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        tps = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        out: list[Any] = []
        deadline = asyncio.get_running_loop().time() + timeout
        while [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
            assert asyncio.get_running_loop().time() < deadline, "could not read the topic to its end"
            for recs in (await consumer.getmany(timeout_ms=500)).values():
                out.extend(recs)
        return out
    finally:
        await consumer.stop()


# -- consumers -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("mode", "how"),
    [("single", "leave"), ("batch", "leave"), ("batch", "kill")],
    ids=["single-leave", "batch-leave", "batch-kill"],
)
async def test_two_replicas_in_one_group_apply_each_event_once_in_key_order_through_rebalances(
    kafka_bootstrap, make_database, fresh_topic, mode, how
):
    run = uuid.uuid4().hex[:8]
    topic = await fresh_topic(f"omni.test.replicas.{run}", partitions=6)
    group, table = f"replicas-{run}", f"applied_{run}"
    db = await make_database("replicas")
    async with db.transaction() as s:
        await s.execute(
            text(
                f"CREATE TABLE {table} (pos bigserial PRIMARY KEY, replica text NOT NULL, "
                "event_id uuid NOT NULL, key text NOT NULL, seq int NOT NULL, prev int)"
            )
        )

    async def applied_by(replica: str) -> int:
        return await _scalar(db, f"SELECT count(*) FROM {table} WHERE replica = :r", r=replica)

    published: dict[str, int] = {}
    stop_producing = asyncio.Event()
    producer = asyncio.create_task(_produce(kafka_bootstrap, topic, stop_producing, published))
    a = await Replica.spawn("consume", db.dsn, kafka_bootstrap, topic, group, table, "a", mode)
    db_b = Database(db.dsn)  # replica b: its own process in real life, its own pool here
    try:
        await eventually(lambda: _gt(applied_by("a"), 100), timeout=60)
        async with AsyncExitStack() as b_running:
            await b_running.enter_async_context(
                running_consumers(kafka_bootstrap, db_b, [_spec(group, topic, table, "b", mode == "batch")])
            )
            await eventually(lambda: _gt(applied_by("b"), 100), timeout=60)  # b has partitions: it joined
            a_meanwhile = await applied_by("a")
            await eventually(lambda: _gt(applied_by("a"), a_meanwhile + 20), timeout=30)  # a kept some

            await a.end(how)
            cut = dict(published)

            async def b_has_every_key_past_the_cut() -> bool:
                rows = await _rows(
                    db, f"SELECT key, max(seq) AS seq FROM {table} WHERE replica = 'b' GROUP BY key"
                )
                return len(rows) == len(KEYS) and all(r.seq > cut[r.key] for r in rows)

            await eventually(b_has_every_key_past_the_cut, timeout=60)  # a's partitions moved to b
            stop_producing.set()
            await producer
            total = sum(published.values())
            await eventually(lambda: _scalar(db, f"SELECT count(*) >= {total} FROM {table}"), timeout=90)
            # the group is at the end: nothing more will come (b consumed every partition to its end)
            await eventually(lambda: _group_at_end(kafka_bootstrap, group, topic), timeout=30)
    finally:
        stop_producing.set()
        await a.reap()
        await asyncio.gather(producer, return_exceptions=True)
        await db_b.dispose()

    rows = await _rows(db, f"SELECT replica, event_id, key, seq, prev FROM {table} ORDER BY pos")
    assert len(rows) == total, f"{len(rows)} applied, {total} published: an event applied twice or never"
    assert len({r.event_id for r in rows}) == total
    for key in KEYS:
        mine = [r for r in rows if r.key == key]
        assert [r.seq for r in mine] == list(range(1, published[key] + 1)), f"{key}: out of order or missing"
        wrong = [(r.seq, r.prev) for r in mine if r.prev != (r.seq - 1 if r.seq > 1 else None)]
        assert not wrong, f"{key}: applied without its predecessor's effects (seq, seen): {wrong[:5]}"
    counts = {r: sum(1 for x in rows if x.replica == r) for r in ("a", "b")}
    assert counts["a"] > 100 and counts["b"] > 100, counts
    assert await _scalar(db, "SELECT count(*) FROM inbox WHERE consumer = :g", g=group) == total


async def _gt(value: Any, bound: int) -> bool:
    return (await value) > bound


async def _group_at_end(bootstrap: str, group: str, topic: str) -> bool:
    """The group's committed offsets are the topic's end offsets (read without joining the group)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="omni-test-admin")
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await admin.start()
    await consumer.start()
    try:
        committed = await admin.list_consumer_group_offsets(group)
        await consumer._client.force_metadata_update()
        tps = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        ends = await consumer.end_offsets(tps)
        return all(tp in committed and committed[tp].offset >= ends[tp] for tp in tps)
    finally:
        await consumer.stop()
        await admin.close()


# -- outbox relays ---------------------------------------------------------------------------------------
async def _lock_holders(db: Database) -> int:
    return await _scalar(
        db,
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
        "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    )


@pytest.mark.parametrize("how", ["stop", "kill"])
async def test_two_relays_on_one_database_one_stands_by_and_takes_over(
    kafka_bootstrap, make_database, fresh_topic, how
):
    run = uuid.uuid4().hex[:8]
    topic = await fresh_topic(f"omni.test.relays.{run}", partitions=6)
    name = f"replicas-{run}"  # the relays' name: their advisory lock (a service's replicas share theirs)
    db = await make_database("relays")
    written: dict[str, int] = {}
    stop_writing = asyncio.Event()
    writer = asyncio.create_task(_write_outbox(db, topic, stop_writing, written))

    async def sent() -> int:
        return await _scalar(db, "SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL")

    a = await Replica.spawn("relay", db.dsn, kafka_bootstrap, name)
    producer_b = make_producer(kafka_bootstrap, "omni-test-relay-b")
    await producer_b.start()
    b = OutboxRelay(db.dsn, producer_b, name=name, poll_interval_s=0.1)
    b_task: asyncio.Task[None] | None = None
    try:
        await eventually(lambda: _gt(sent(), 50), timeout=60)  # a is active
        b_task = asyncio.create_task(b.run())
        before = await sent()
        await eventually(lambda: _gt(sent(), before + 200), timeout=60)  # a keeps publishing…
        assert not b.active and b.published == 0, "b must stand by while a holds the lock"  # …and b waits
        assert await _lock_holders(db) == 1

        await a.end(how)
        await eventually(lambda: _true(b.active), timeout=30)
        await eventually(lambda: _true(b.published > 100), timeout=60)  # b publishes the new rows
        stop_writing.set()
        await writer
        await eventually(
            lambda: _scalar(db, "SELECT count(*) = 0 FROM outbox WHERE sent_at IS NULL"), timeout=60
        )
        assert await _lock_holders(db) == 1
    finally:
        stop_writing.set()
        await a.reap()
        b.stop()
        if b_task is not None:
            await asyncio.wait_for(b_task, 10)
        await producer_b.stop()
        await asyncio.gather(writer, return_exceptions=True)

    total = sum(written.values())
    assert await _scalar(db, "SELECT count(*) FROM outbox") == total
    records = await _read_all(kafka_bootstrap, topic)
    first: dict[str, list[int]] = {key: [] for key in KEYS}
    seen: set[bytes] = set()
    for rec in records:  # partition by partition; a key's records are all in one partition, in offset order
        event_id = dict(rec.headers)["event_id"]
        if event_id not in seen:
            seen.add(event_id)
            first[rec.key.decode()].append(REGISTRY.decode(rec.value, rec.headers).data.seq)
    assert len(seen) == total, f"{len(seen)} of {total} rows on the topic"
    for key in KEYS:
        assert first[key] == list(range(1, written[key] + 1)), f"{key}: out of order"
    if how == "stop":  # a stopped relay marks what it published before it lets go
        assert len(records) == total, f"{len(records) - total} published twice"


async def _true(value: bool) -> bool:
    return value


if __name__ == "__main__":
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == "consume":
        asyncio.run(_consume_main(*args))
    elif mode == "relay":
        asyncio.run(_relay_main(*args))
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    os._exit(0)
