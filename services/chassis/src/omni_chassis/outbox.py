"""Transactional outbox: events are written in the caller's transaction and published by a relay.

The relay:
- holds a session advisory lock, so one relay per database is active (others stand by) and per-key order
  is kept even when a service runs several replicas;
- claims unsent rows in id order with `FOR UPDATE SKIP LOCKED`;
- publishes them through an idempotent producer (acks=all, retries keep order), awaits every ack;
- marks them sent in the same transaction, and purges sent rows after a retention period;
- wakes on LISTEN/NOTIFY (a statement trigger on the table), polls as a fallback.
If it dies between publishing and marking, the rows are published again: consumers' inboxes absorb that.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import zlib
from collections.abc import Callable, Sequence
from typing import Any

import asyncpg
import orjson
from aiokafka import AIOKafkaProducer
from opentelemetry import propagate
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from omni_contracts import Envelope, EventPayload, make_envelope

from . import metrics
from .context import correlation_id_var, event_trace_ctx, service_name
from .db import connect_args
from .failures import PermanentError, describe
from .logging import get_logger
from .tables import OUTBOX_CHANNEL, outbox

log = get_logger("omni.outbox")

# The largest event the broker takes (Kafka's default `message.max.bytes` is 1,048,588 and the producer's
# `max_request_size` 1,048,576): an event larger than this is refused when it is staged, never stored.
MAX_EVENT_BYTES = 1_000_000


class EventTooLarge(PermanentError):
    """An event larger than the broker accepts: refused in the caller's transaction (413 at the API)."""

    def __init__(self, event_type: str, size: int, limit: int) -> None:
        super().__init__(
            f"event {event_type} would be {size:,} bytes; the limit is {limit:,} bytes "
            "(a message larger than the broker accepts)"
        )
        self.event_type, self.size, self.limit = event_type, size, limit


def configure(max_event_bytes: int) -> None:
    global MAX_EVENT_BYTES
    MAX_EVENT_BYTES = max_event_bytes


def trace_carrier(cause: Envelope[Any] | None) -> dict[str, str]:
    """The W3C trace headers an event continues: its cause's span (in a consumer), else the current span.

    Taken when the event is emitted, in the caller's context: staging may run later in another task (a group
    commit stages every request's events at once)."""
    carrier: dict[str, str] = {}
    ctxs = event_trace_ctx.get()
    if cause is not None and ctxs and cause.event_id in ctxs:
        propagate.inject(carrier, context=ctxs[cause.event_id])
    else:
        propagate.inject(carrier)
    return carrier


def _row(
    env: Envelope[Any], topic: str, cause: Envelope[Any] | None, carrier: dict[str, str] | None = None
) -> dict[str, Any]:
    if carrier is None:
        carrier = trace_carrier(cause)
    headers = [[k, v.decode()] for k, v in env.headers()] + [[k, v] for k, v in carrier.items()]
    value = env.to_bytes()
    size = len(value) + len(env.key) + sum(len(k) + len(v) for k, v in headers) + 128  # record overhead
    if size > MAX_EVENT_BYTES:
        raise EventTooLarge(env.event_type, size, MAX_EVENT_BYTES)
    return {
        "event_id": env.event_id,
        "event_type": env.event_type,
        "topic": topic,
        "key": env.key,
        "value": value,
        "headers": headers,
    }


def build(
    data: EventPayload, *, key: str, cause: Envelope[Any] | None = None, correlation_id: str | None = None
) -> Envelope[Any]:
    """An envelope for `data`, continuing the correlation of its cause or of the current request."""
    corr = correlation_id or (cause.correlation_id if cause else None) or correlation_id_var.get()
    return make_envelope(
        data,
        producer=service_name(),
        key=key,
        correlation_id=corr,
        causation_id=str(cause.event_id) if cause else None,
    )


async def stage(
    session: AsyncSession,
    envelopes: Sequence[tuple[Envelope[Any], Envelope[Any] | None]],
    topic: str | None = None,
    carriers: dict[Any, dict[str, str]] | None = None,
) -> None:
    """Write envelopes (each with its cause, or None) to the outbox in the session's transaction.

    Each goes to its payload's registered topic unless `topic` says otherwise; `carriers` (event id -> trace
    headers, taken when each was emitted) override the trace context current now.
    """
    if not envelopes:
        return
    carriers = carriers or {}
    rows = [
        _row(env, topic or type(env.data).__topic__, cause, carriers.get(env.event_id))
        for env, cause in envelopes
    ]
    await session.execute(insert(outbox), rows)


async def emit(
    session: AsyncSession,
    data: EventPayload,
    *,
    key: str,
    cause: Envelope[Any] | None = None,
    correlation_id: str | None = None,
    topic: str | None = None,
) -> Envelope[Any]:
    """Build one event and stage it in the outbox, in the caller's transaction."""
    env = build(data, key=key, cause=cause, correlation_id=correlation_id)
    await stage(session, [(env, cause)], topic)
    return env


def _lock_key(name: str) -> int:
    return zlib.crc32(f"omni-outbox-relay:{name}".encode()) - 2**31


class OutboxRelay:
    def __init__(
        self,
        dsn: str,
        producer: AIOKafkaProducer,
        *,
        name: str,
        batch_size: int = 500,
        poll_interval_s: float = 2.0,  # a fallback: NOTIFY wakes the relay when rows are written
        retention_s: float = 3600,
        on_published: Callable[[list[asyncpg.Record]], None] | None = None,
        topic_prefix: str = "",
        producer_factory: Callable[[], AIOKafkaProducer] | None = None,
        backoff_first_s: float = 0.2,
        backoff_max_s: float = 5.0,
    ) -> None:
        self.dsn = dsn
        self.producer = producer
        self.name = name
        self.batch_size = batch_size
        self.poll_interval_s = poll_interval_s
        self.retention_s = retention_s
        self.on_published = on_published  # test hook: called after Kafka acked, before rows are marked
        self.topic_prefix = topic_prefix  # rows keep the logical topic; the namespace is the deployment's
        self._wake = asyncio.Event()
        self._stopping = False
        self.published = 0
        self.active = False
        self.producer_factory = producer_factory
        self.backoff_first_s = backoff_first_s
        self.backoff_max_s = backoff_max_s
        self.errors = 0
        self.consecutive_errors = 0
        self.failing_since: float | None = None
        self.last_error: str | None = None

    def _notified(self, *_args: Any) -> None:
        self._wake.set()

    async def publish_once(self, conn: asyncpg.Connection) -> int:
        """Claim, publish and mark one batch. Returns how many rows were published."""
        async with conn.transaction():
            rows = await conn.fetch(
                "SELECT id, topic, key, value, headers FROM outbox WHERE sent_at IS NULL "
                "ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
                self.batch_size,
            )
            if not rows:
                return 0
            futures = []
            for r in rows:
                headers = [(k, v.encode()) for k, v in orjson.loads(r["headers"])]
                futures.append(
                    await self.producer.send(
                        self.topic_prefix + r["topic"],
                        value=r["value"],
                        key=r["key"].encode(),
                        headers=headers,
                    )
                )
            await asyncio.gather(*futures)
            if self.on_published is not None:
                self.on_published(rows)
            await conn.execute(
                "UPDATE outbox SET sent_at = now() WHERE id = ANY($1::bigint[])", [r["id"] for r in rows]
            )
        self._healthy()
        self.published += len(rows)
        metrics.OUTBOX_PUBLISHED.labels(self.name).inc(len(rows))
        return len(rows)

    async def run(self) -> None:
        """Run until stopped: wait for the lock, then publish whenever rows appear.

        Any error (the database restarting, Kafka unreachable, a timeout, anything) is logged with its class,
        counted, and retried with capped exponential backoff; the relay itself never ends on an error. After a
        few Kafka failures in a row the producer is replaced (when a factory was given), since a producer can
        be left in a state it does not recover from.
        """
        while not self._stopping:
            try:
                await self._run_connected()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.active = False
                self.errors += 1
                self.consecutive_errors += 1
                if self.failing_since is None:
                    self.failing_since = time.monotonic()
                self.last_error = describe(exc, 500)
                metrics.OUTBOX_ERRORS.labels(self.name, type(exc).__name__).inc()
                delay = min(self.backoff_first_s * 2 ** (self.consecutive_errors - 1), self.backoff_max_s)
                log.warning(
                    "outbox relay failed; retrying",
                    relay=self.name,
                    error_class=type(exc).__name__,
                    error=self.last_error,
                    consecutive_errors=self.consecutive_errors,
                    retry_in_s=round(delay, 2),
                )
                if self.producer_factory is not None and self.consecutive_errors % 3 == 0:
                    await self._replace_producer()
                await asyncio.sleep(delay)

    async def _replace_producer(self) -> None:
        assert self.producer_factory is not None
        old = self.producer
        with contextlib.suppress(Exception):
            await asyncio.wait_for(old.stop(), 5)
        new = self.producer_factory()
        try:
            await asyncio.wait_for(new.start(), 10)
        except Exception as exc:  # Kafka still away: keep the new one, it connects when the broker is back
            log.warning("new outbox producer not connected yet", relay=self.name, error=describe(exc, 300))
        self.producer = new
        log.info("outbox relay replaced its producer", relay=self.name)

    def health(self, max_silence_s: float = 5.0) -> tuple[bool, str]:
        """(healthy, what): unhealthy while the relay has been failing for more than `max_silence_s`."""
        if self.failing_since is not None and time.monotonic() - self.failing_since > max_silence_s:
            return False, f"failing for {time.monotonic() - self.failing_since:.0f} s: {self.last_error}"
        return True, "active" if self.active else "standby"

    async def _run_connected(self) -> None:
        conn = await asyncpg.connect(self.dsn, **connect_args(self.dsn))
        try:
            # Marking rows sent need not wait for the WAL flush: a mark lost in a crash only means the rows
            # are published again, which the consumers' inboxes absorb (see above). One disk flush less per
            # relay cycle, on every hop.
            await conn.execute("SET synchronous_commit = off")
            while not await conn.fetchval("SELECT pg_try_advisory_lock($1)", _lock_key(self.name)):
                if self._stopping:
                    return
                await asyncio.sleep(1)  # another replica's relay is active
            await conn.add_listener(OUTBOX_CHANNEL, self._notified)
            self.active = True
            await self.publish_once(conn)  # proves Kafka answers before the error state is cleared
            self._healthy()
            log.info("outbox relay active", relay=self.name)
            last_housekeeping = 0.0
            while not self._stopping:
                self._wake.clear()
                n = await self.publish_once(conn)
                now = time.monotonic()
                if now - last_housekeeping > 5:
                    last_housekeeping = now
                    await self._housekeeping(conn)
                if n < self.batch_size:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self.poll_interval_s)
        finally:
            self.active = False
            with contextlib.suppress(Exception):
                await conn.close(timeout=2)

    async def _housekeeping(self, conn: asyncpg.Connection) -> None:
        backlog = await conn.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
        metrics.OUTBOX_BACKLOG.labels(self.name).set(backlog)
        metrics.OUTBOX_OLDEST_SECONDS.labels(self.name).set(await self.oldest_unsent_age(conn))
        await conn.execute(
            "DELETE FROM outbox WHERE sent_at < now() - make_interval(secs => $1)", float(self.retention_s)
        )

    def _healthy(self) -> None:
        if self.consecutive_errors:
            log.info("outbox relay recovered", relay=self.name, after_errors=self.consecutive_errors)
        self.consecutive_errors = 0
        self.failing_since = None

    async def oldest_unsent_age(self, conn: asyncpg.Connection) -> float:
        """Seconds since the oldest unpublished row was written (0 when none)."""
        age = await conn.fetchval(
            "SELECT EXTRACT(EPOCH FROM now() - created_at) FROM outbox "
            "WHERE sent_at IS NULL ORDER BY id LIMIT 1"
        )
        return float(age or 0.0)

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()
