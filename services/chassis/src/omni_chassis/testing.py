"""pytest fixtures for real Kafka and PostgreSQL (loaded by the root conftest.py).

Where they come from, in order:
1. `KAFKA_BOOTSTRAP_SERVERS` / `DATABASE_URL` when set (what `make test` does, after starting the stack);
2. testcontainers, when a Docker engine answers;
3. the local stack scripts under deploy/local (no Docker needed).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from omni_contracts import dlq_topic

from .consumer import ConsumerRuntime, ConsumerSpec
from .db import Database
from .dlq import DeadLetters
from .kafka import create_topics, make_broker, make_producer
from .migrate import upgrade
from .outbox import OutboxRelay
from .parking import ParkingLoop
from .settings import database_for, plain_url
from .uow import SqlUnitOfWork


def repo_root() -> Path:
    here = Path.cwd().resolve()
    for p in (here, *here.parents):
        if (p / "deploy" / "local").is_dir() and (p / "Makefile").exists():
            return p
    raise RuntimeError("cannot find the Omni repository root (deploy/local and Makefile)")


def docker_available() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=5).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        yield os.environ["KAFKA_BOOTSTRAP_SERVERS"]
        return
    if docker_available():
        from testcontainers.kafka import KafkaContainer

        with KafkaContainer("apache/kafka:4.1.1").with_kraft() as kafka:
            yield kafka.get_bootstrap_server()
        return
    subprocess.run([str(repo_root() / "deploy/local/kafka.sh"), "start"], check=True)
    yield "127.0.0.1:9092"


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    if os.environ.get("DATABASE_URL"):
        yield plain_url(os.environ["DATABASE_URL"])
        return
    if docker_available():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:16", username="omni", password="omni", dbname="postgres") as pg:
            yield f"postgresql://omni:omni@{pg.get_container_host_ip()}:{pg.get_exposed_port(5432)}"
        return
    subprocess.run([str(repo_root() / "deploy/local/postgres.sh"), "start"], check=True)
    yield "postgresql://omni:omni@127.0.0.1:5432"


async def drop_database(server_url: str, name: str, *, strict: bool = True) -> None:
    """Drop a database. A moment's autovacuum worker on it (a superuser process we may not terminate) makes
    DROP fail: retry for a few seconds; with strict=False, give up quietly (the next run drops it)."""
    conn = await asyncpg.connect(database_for(server_url, "postgres"))
    try:
        for attempt in range(20):
            try:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                return
            except (asyncpg.InsufficientPrivilegeError, asyncpg.ObjectInUseError):
                if attempt == 19:
                    if strict:
                        raise
                    return
                await asyncio.sleep(0.25)
    finally:
        await conn.close()


async def recreate_database(server_url: str, name: str) -> str:
    """Drop and create database `name` on the server; returns its plain URL."""
    await drop_database(server_url, name)
    conn = await asyncpg.connect(database_for(server_url, "postgres"))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return database_for(server_url, name)


DatabaseFactory = Callable[..., Awaitable[Database]]


@pytest.fixture(scope="session")
def namespaced_topics(kafka_bootstrap: str) -> str:
    """The registry's topics under the test run's OMNI_TOPIC_PREFIX (the root conftest sets `test.`)."""
    asyncio.run(create_topics(kafka_bootstrap))
    return os.environ.get("OMNI_TOPIC_PREFIX", "")


@pytest.fixture
async def make_database(pg_server_url: str, namespaced_topics: str) -> AsyncIterator[DatabaseFactory]:
    """Factory: a fresh database with the chassis tables (and a service's migrations when given)."""
    made: list[Database] = []

    async def factory(prefix: str = "t", migrations: Path | None = None) -> Database:
        name = f"omni_test_{prefix}_{uuid.uuid4().hex[:8]}"
        url = await recreate_database(pg_server_url, name)
        await asyncio.to_thread(upgrade, url, migrations)
        db = Database(url)
        made.append(db)
        return db

    yield factory
    for db in made:
        await db.dispose()
    if os.environ.get("OMNI_KEEP_TEST_DATABASES") != "1":  # set it to look at a failed test's data
        for db in made:
            await drop_database(pg_server_url, db.dsn.rsplit("/", 1)[1].split("?")[0], strict=False)


@pytest.fixture
async def fresh_topic(kafka_bootstrap: str) -> Callable[..., Awaitable[str]]:
    """Factory: a new, empty topic (6 partitions unless told)."""

    async def factory(prefix: str = "omni.test", partitions: int = 6) -> str:
        name = f"{prefix}.{uuid.uuid4().hex[:10]}"
        await create_topics(kafka_bootstrap, [name], partitions)
        return name

    return factory


async def eventually(
    check: Callable[[], Awaitable[object]], timeout: float = 30, interval: float = 0.1
) -> object:
    """Poll `check` until it returns something truthy; fail with its last value after `timeout` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    last: object = None
    while True:
        last = await check()
        if last:
            return last
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s; last value: {last!r}")
        await asyncio.sleep(interval)


@asynccontextmanager
async def running_consumers(
    bootstrap: str,
    db: Database,
    specs: list[ConsumerSpec],
    *,
    max_attempts: int = 3,
    backoff_s: float = 0.01,
    repository: Callable[[Any], Any] | None = None,
    park_max_age_s: float = 6 * 3600,
) -> AsyncIterator[ConsumerRuntime]:
    """A ConsumerRuntime on real Kafka, as a service runs it (parking loop included), for the block."""
    producer = make_producer(bootstrap, "omni-test")
    await producer.start()
    broker = make_broker(bootstrap, "omni-test")
    runtime = ConsumerRuntime(
        db,
        DeadLetters(producer),
        max_attempts=max_attempts,
        backoff_s=backoff_s,
        uow_factory=lambda: SqlUnitOfWork(db, repository),
    )
    for spec in specs:
        runtime.register(broker, spec)
    await create_topics(bootstrap, [dlq_topic(s.group) for s in specs])
    parking = ParkingLoop(runtime, max_age_s=park_max_age_s, poll_s=0.2)
    await broker.start()
    task = asyncio.create_task(parking.run())
    runtime.parking = parking  # type: ignore[attr-defined]
    try:
        yield runtime
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        await broker.stop()
        await producer.stop()


@asynccontextmanager
async def running_relay(bootstrap: str, db: Database, name: str = "test") -> AsyncIterator[OutboxRelay]:
    producer = make_producer(bootstrap, f"omni-relay-{name}")
    await producer.start()
    relay = OutboxRelay(db.dsn, producer, name=name)
    task = asyncio.create_task(relay.run())
    try:
        yield relay
    finally:
        relay.stop()
        await asyncio.wait_for(task, 10)
        await producer.stop()
