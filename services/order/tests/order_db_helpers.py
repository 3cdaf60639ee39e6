"""Helpers for the order service's integration tests (real PostgreSQL, real Kafka)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

import omni_order
from omni_chassis.db import Database
from omni_chassis.kafka import make_producer
from omni_chassis.uow import SqlUnitOfWork
from omni_order import service, store
from omni_order.app import Settings, build

MIGRATIONS = Path(omni_order.__file__).parent / "migrations"


async def order_database(make_database: Any) -> Database:
    return await make_database("order", migrations=MIGRATIONS)


async def rows(db: Database, sql: str, **params: Any) -> list[Any]:
    async with db.transaction() as s:
        return list(await s.execute(text(sql), params))


async def scalar(db: Database, sql: str, **params: Any) -> Any:
    async with db.transaction() as s:
        return (await s.execute(text(sql), params)).scalar()


async def outbox(db: Database, event_type: str | None = None, key: str | None = None) -> list[dict[str, Any]]:
    """The envelopes staged in the outbox, oldest first (as dicts), optionally of one type / key."""
    found = await rows(db, "SELECT event_type, topic, key, value FROM outbox ORDER BY id")
    out = []
    for r in found:
        if (event_type is None or r.event_type == event_type) and (key is None or r.key == key):
            out.append(json.loads(bytes(r.value)) | {"_topic": r.topic})
    return out


def uow_for(db: Database) -> SqlUnitOfWork[store.Repository]:
    """The unit of work the service's consumers and routes get (`create_app(..., repository=...)`)."""
    return SqlUnitOfWork(db, store.Repository)


async def project(db: Database, events: list[Any]) -> None:
    from order_factories import envelope

    await service.project_catalog(uow_for(db), [envelope(e) for e in events])


async def take_in(db: Database, envs: list[Any]) -> service.IntakeResult:
    return await service.intake(uow_for(db), envs)


async def follow(db: Database, events: list[Any]) -> None:
    from order_factories import envelope

    await service.follow_fulfillment(uow_for(db), [envelope(e) for e in events])


async def publish(bootstrap: str, topic: str, envs: list[Any]) -> None:
    producer = make_producer(bootstrap, "omni-order-test")
    await producer.start()
    try:
        for env in envs:
            await producer.send_and_wait(topic, env.to_bytes(), key=env.key.encode(), headers=env.headers())
    finally:
        await producer.stop()


@asynccontextmanager
async def client_for(db: Database) -> AsyncIterator[httpx.AsyncClient]:
    """The order service's REST API on `db` (no consumers, no timers), as an HTTP client."""
    app = build(Settings(service_database_url=db.dsn, consumers_enabled=False, timers_enabled=False))
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            yield client
