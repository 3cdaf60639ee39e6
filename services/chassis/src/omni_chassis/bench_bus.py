"""`make bench-bus`: what this broker and this database can carry, before any domain logic.

1. raw aiokafka: produce (acks=all, idempotent) and consume, 1 KB messages;
2. FastStream: one message in flight, consume -> publish;
3. the chassis: outbox -> relay -> Kafka -> consumer -> inbox -> DB, one transaction per event and per batch.
It prints a table; it asserts nothing.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid

import asyncpg
import typer
from aiokafka import AIOKafkaConsumer
from faststream.kafka import KafkaBroker
from faststream.middlewares import AckPolicy
from rich.console import Console
from rich.table import Table
from sqlalchemy import text

from omni_contracts.events.diagnostics import ProbeV1

from .consumer import ConsumerSpec
from .db import Database
from .kafka import create_topics, make_producer
from .migrate import upgrade
from .outbox import build, stage
from .settings import CommonSettings, database_for, plain_url
from .testing import drop_database, running_consumers, running_relay

console = Console()


async def _consume_count(bootstrap: str, topic: str, n: int, group: str | None = None) -> float:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        max_partition_fetch_bytes=4 * 1024 * 1024,
        fetch_max_bytes=64 * 1024 * 1024,
    )
    await consumer.start()
    seen, t0 = 0, time.perf_counter()
    try:
        while seen < n:
            for recs in (await consumer.getmany(timeout_ms=1000, max_records=10000)).values():
                seen += len(recs)
        return time.perf_counter() - t0
    finally:
        await consumer.stop()


async def bench_raw(bootstrap: str, n: int) -> tuple[float, float]:
    topic = f"omni.bench.raw.{uuid.uuid4().hex[:8]}"
    await create_topics(bootstrap, [topic], 6)
    producer = make_producer(bootstrap, "omni-bench", linger_ms=5)
    await producer.start()
    payload = os.urandom(512).hex().encode()  # 1 KB
    t0 = time.perf_counter()
    pending = []
    for i in range(n):
        pending.append(await producer.send(topic, payload, key=str(i % 1000).encode()))
        if len(pending) >= 5000:
            await asyncio.gather(*pending)
            pending.clear()
    await asyncio.gather(*pending)
    produce_s = time.perf_counter() - t0
    await producer.stop()
    consume_s = await _consume_count(bootstrap, topic, n)
    return n / produce_s, n / consume_s


async def bench_faststream(bootstrap: str, n: int) -> float:
    src, dst = (f"omni.bench.fs-{x}.{uuid.uuid4().hex[:8]}" for x in ("in", "out"))
    await create_topics(bootstrap, [src, dst], 6)
    producer = make_producer(bootstrap, "omni-bench", linger_ms=5)
    await producer.start()
    await asyncio.gather(*[await producer.send(src, b'{"i": %d}' % i, key=str(i).encode()) for i in range(n)])
    await producer.stop()
    broker = KafkaBroker(bootstrap, acks="all", enable_idempotence=True, logger=None)
    done = asyncio.Event()
    count = 0

    @broker.subscriber(
        src, group_id=f"bench-{uuid.uuid4().hex[:6]}", auto_offset_reset="earliest", ack_policy=AckPolicy.ACK
    )
    async def relay(body: dict) -> None:
        nonlocal count
        await broker.publish(body, dst, key=str(body["i"]).encode())
        count += 1
        if count >= n:
            done.set()

    t0 = time.perf_counter()
    await broker.start()
    await asyncio.wait_for(done.wait(), 600)
    elapsed = time.perf_counter() - t0
    await broker.stop()
    return n / elapsed


async def bench_chassis(bootstrap: str, server_url: str, n: int, batched: bool) -> tuple[float, float]:
    """Events/s from the first outbox insert to the last effect committed, and p50 latency (ms)."""
    name = f"omni_bench_{uuid.uuid4().hex[:6]}"
    admin = await asyncpg.connect(database_for(server_url, "postgres"))
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = database_for(server_url, name)
    await asyncio.to_thread(upgrade, url, None)
    db = Database(url)
    async with db.transaction() as s:
        await s.execute(text("CREATE TABLE effects (event_id uuid PRIMARY KEY, seq int, latency_ns bigint)"))
    topic = f"omni.bench.chassis.{uuid.uuid4().hex[:8]}"
    await create_topics(bootstrap, [topic], 6)
    insert = text("INSERT INTO effects (event_id, seq, latency_ns) VALUES (:e, :s, :l)")

    async def one(uow, env) -> None:
        session = uow.session
        await session.execute(
            insert, {"e": env.event_id, "s": env.data.seq, "l": time.time_ns() - env.data.sent_at_ns}
        )

    async def many(uow, envs) -> None:
        session = uow.session
        now = time.time_ns()
        await session.execute(
            insert, [{"e": e.event_id, "s": e.data.seq, "l": now - e.data.sent_at_ns} for e in envs]
        )

    spec = (
        ConsumerSpec("bench", [topic], batch_handler=many, max_records=1000)
        if batched
        else ConsumerSpec("bench", [topic], handler=one)
    )
    async with running_consumers(bootstrap, db, [spec]), running_relay(bootstrap, db, "bench"):
        await asyncio.sleep(3)  # let the group settle
        t0 = time.perf_counter()
        chunk = 100
        for start in range(0, n, chunk):
            async with db.transaction() as s:
                envs = [
                    (build(ProbeV1(seq=i, sent_at_ns=time.time_ns()), key=f"k{i % 97}"), None)
                    for i in range(start, min(start + chunk, n))
                ]
                await stage(s, envs, topic)
        while True:
            async with db.transaction() as s:
                done = (await s.execute(text("SELECT count(*) FROM effects"))).scalar()
            if done >= n:
                break
            await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - t0
        async with db.transaction() as s:
            p50 = (
                await s.execute(
                    text("SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ns) FROM effects")
                )
            ).scalar()
    await db.dispose()
    await drop_database(server_url, name, strict=False)
    return n / elapsed, p50 / 1e6


async def run_all(n_raw: int, n_fs: int, n_chassis: int) -> list[tuple[str, str, str]]:
    settings = CommonSettings()
    bootstrap, server = settings.kafka_bootstrap_servers, plain_url(settings.database_url)
    rows = []
    prod, cons = await bench_raw(bootstrap, n_raw)
    rows.append(("aiokafka produce, 1 KB, acks=all, idempotent", f"{n_raw:,}", f"{prod:,.0f} msg/s"))
    rows.append(("aiokafka consume, 1 KB", f"{n_raw:,}", f"{cons:,.0f} msg/s"))
    fs = await bench_faststream(bootstrap, n_fs)
    rows.append(("FastStream consume -> publish, one in flight", f"{n_fs:,}", f"{fs:,.0f} events/s"))
    single, p50s = await bench_chassis(bootstrap, server, n_chassis // 4, batched=False)
    rows.append(
        (
            "chassis outbox -> Kafka -> inbox -> DB, per event",
            f"{n_chassis // 4:,}",
            f"{single:,.0f} events/s (p50 {p50s:.1f} ms)",
        )
    )
    batch, p50b = await bench_chassis(bootstrap, server, n_chassis, batched=True)
    rows.append(
        (
            "chassis outbox -> Kafka -> inbox -> DB, batched",
            f"{n_chassis:,}",
            f"{batch:,.0f} events/s (p50 {p50b:.1f} ms)",
        )
    )
    return rows


def print_rows(rows: list[tuple[str, str, str]]) -> None:
    table = Table(title="bus baseline (this broker, this database)")
    table.add_column("path")
    table.add_column("messages", justify="right")
    table.add_column("rate", justify="right")
    for r in rows:
        table.add_row(*r)
    console.print(table)


def main(
    n_raw: int = typer.Option(100_000, help="messages for the raw aiokafka runs"),
    n_faststream: int = typer.Option(10_000, help="messages for the FastStream run"),
    n_chassis: int = typer.Option(
        20_000, help="events for the batched chassis run (a quarter for per-event)"
    ),
) -> None:
    print_rows(asyncio.run(run_all(n_raw, n_faststream, n_chassis)))


if __name__ == "__main__":
    typer.run(main)
