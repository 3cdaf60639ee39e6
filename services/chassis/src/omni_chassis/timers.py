"""Durable timers: a due time set in the caller's transaction, fired once in effect, surviving restarts.

    # in a use case (any unit of work):
    async with uow:
        ...
        uow.schedule_timer("inventory.reservation-expiry", reservation_id, due_at, {"order_id": order_id})
        uow.cancel_timer("fulfillment.accept-sla", task_id)

    # in the service's app.py: one handler per kind
    create_app(settings, ..., timers={"inventory.reservation-expiry": expire_reservation})

    async def expire_reservation(uow, key: str, payload: dict | None) -> None:
        async with uow:          # re-entrant: the timer loop has opened it already
            ...                  # the use case's writes and events

How it works:
- `schedule_timer(kind, key, due_at, payload)` and `cancel_timer(kind, key)` are collected by the unit of
  work and written at its commit with everything else (the `timers` table, chassis migration c0003): a
  timer exists iff the transaction that set it committed. (kind, key) is unique: scheduling again moves the
  timer (new due time and payload, attempts reset); the last call on a (kind, key) in one unit of work wins.
- `TimerLoop` (started by `create_app(timers=...)` under the app's supervisor) claims one due timer at a
  time with `FOR UPDATE SKIP LOCKED` in a fresh unit of work, deletes its row and runs the kind's handler in
  that same unit of work, then commits: the handler's effects and the timer's removal commit together, so
  a timer fires exactly once in effect, with any number of replicas (a locked row is skipped by the others).
  A handler may schedule the same (kind, key) again (a recurring timer): that write lands after the delete.
- Between rounds the loop sleeps until the next due time (by the database's clock), at most `max_sleep_s`
  (5 s): an idle service runs one small query every 5 s. A unit of work in this process that commits a timer
  due sooner wakes it at once.
- A handler that raises rolls everything back; then, in a transaction of its own, the row gets attempts+1,
  `last_error` (scrubbed: no SQL parameters, no phone numbers) and a due time pushed back (1 s doubling, at
  most 10 minutes). A transient failure (database restarting, deadlock) is retried like that for as long as
  it lasts; any other failure, after `max_attempts` (10) attempts, marks the row `failed_at` and logs an
  error: it stays, visible, and is not retried until someone schedules it again (which resets it).
- A timer whose kind has no handler in this process is left alone (another service version may know it).
- The events a handler emits carry the correlation id of the request that set the timer.

Metrics: `omni_timers_fired_total`, `omni_timer_failures_total`, `omni_timer_lateness_seconds` (how late
after its due time a timer fired), and every 15 s `omni_timers_pending`, `omni_timers_overdue` (due more
than a second ago, not fired) and `omni_timers_failed`, per kind.

`uow.lock_timer(kind, key)` locks a pending timer's row for the rest of the unit of work: a use case that
settles what the timer would decide (a payment confirming a reservation that is about to expire) calls it
first, so it and the firing are serialized in one order.

`FakeUnitOfWork` keeps `timers` ((kind, key) -> `Timer`, what is scheduled after its commits) and
`fire_timer` / `fire_due` to run a handler as the loop would, for service tests without I/O.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from omni_contracts import utcnow

from . import metrics
from .context import correlation_id_var
from .db import Database
from .failures import FailureClass, classify, describe
from .logging import get_logger

log = get_logger("omni.timers")

Payload = dict[str, Any] | None
TimerHandler = Callable[[Any, str, Payload], Awaitable[None]]
"""`async def handler(uow, key, payload) -> None`: runs inside the loop's unit of work (`async with uow:`)."""


@dataclass(frozen=True)
class Timer:
    """A timer as a unit of work collects it: `due_at` None means cancel."""

    kind: str
    key: str
    due_at: datetime | None
    payload: Payload = None
    correlation_id: str | None = None


def timer_request(kind: str, key: str, due_at: datetime | timedelta | None, payload: Payload) -> Timer:
    """Validate one schedule (or, with due_at None, cancel) request. A timedelta is from now."""
    if not kind or not key:
        raise ValueError("a timer needs a kind and a key")
    if isinstance(due_at, timedelta):
        due_at = utcnow() + due_at
    if due_at is not None and due_at.tzinfo is None:
        raise ValueError("a timer's due_at must be timezone-aware (UTC)")
    if payload is not None:
        orjson.dumps(payload)  # fails now, in the use case, rather than at commit
    return Timer(kind, key, due_at, payload, correlation_id_var.get() if due_at is not None else None)


_UPSERT = text(
    "INSERT INTO timers (kind, key, due_at, payload, correlation_id) "
    "VALUES (:kind, :key, :due_at, CAST(:payload AS jsonb), :corr) "
    "ON CONFLICT ON CONSTRAINT timers_kind_key DO UPDATE SET due_at = EXCLUDED.due_at, "
    "payload = EXCLUDED.payload, correlation_id = EXCLUDED.correlation_id, attempts = 0, "
    "last_error = NULL, failed_at = NULL, updated_at = now()"
)
_CANCEL = text(
    "DELETE FROM timers WHERE (kind, key) IN "
    "(SELECT k, x FROM unnest(CAST(:kinds AS text[]), CAST(:keys AS text[])) AS t(k, x))"
)


async def write(session: AsyncSession, requests: Iterable[Timer]) -> datetime | None:
    """Write collected requests in the session's transaction; returns the earliest due time scheduled."""
    ups, cancels = [], []
    for t in requests:
        if t.due_at is None:
            cancels.append(t)
        else:
            payload = None if t.payload is None else orjson.dumps(t.payload).decode()
            ups.append({"kind": t.kind, "key": t.key, "due_at": t.due_at, "payload": payload,
                        "corr": t.correlation_id})  # fmt: skip
    if cancels:
        await session.execute(_CANCEL, {"kinds": [t.kind for t in cancels], "keys": [t.key for t in cancels]})
    if ups:
        await session.execute(_UPSERT, ups)
    return min((u["due_at"] for u in ups), default=None)


_LOCK = text("SELECT 1 FROM timers WHERE kind = :kind AND key = :key FOR UPDATE")


async def lock(session: AsyncSession, kind: str, key: str) -> bool:
    """Lock one timer's row in the session's transaction (waits for a firing in progress)."""
    return (await session.execute(_LOCK, {"kind": kind, "key": key})).first() is not None


_CLAIM = text(
    "SELECT id, kind, key, due_at, payload, attempts, correlation_id, xmin::text AS version, "
    "EXTRACT(EPOCH FROM now() - due_at) AS late_s FROM timers "
    "WHERE kind = ANY(CAST(:kinds AS text[])) AND failed_at IS NULL AND due_at <= now() "
    "ORDER BY due_at LIMIT 1 FOR UPDATE SKIP LOCKED"
)
_DELETE = text("DELETE FROM timers WHERE id = :id")
_NEXT = text(
    "SELECT EXTRACT(EPOCH FROM min(due_at) - now()) FROM timers "
    "WHERE kind = ANY(CAST(:kinds AS text[])) AND failed_at IS NULL"
)
# the row as it was claimed (xmin): a use case that rescheduled it meanwhile wins over the failure record
_FAILED = text(
    "UPDATE timers SET attempts = attempts + 1, last_error = :error, updated_at = now(), "
    "due_at = CASE WHEN :give_up THEN due_at ELSE now() + make_interval(secs => :delay) END, "
    "failed_at = CASE WHEN :give_up THEN now() ELSE NULL END "
    "WHERE id = :id AND xmin::text = :version"
)
_STATS = text(
    "SELECT kind, count(*) FILTER (WHERE failed_at IS NULL), "
    "count(*) FILTER (WHERE failed_at IS NULL AND due_at < now() - interval '1 second'), "
    "count(*) FILTER (WHERE failed_at IS NOT NULL) FROM timers "
    "WHERE kind = ANY(CAST(:kinds AS text[])) GROUP BY kind"
)


class TimerLoop:
    """Fires due timers of the kinds it has handlers for (see the module docstring)."""

    def __init__(
        self,
        db: Database,
        uow_factory: Callable[[], Any],
        handlers: Mapping[str, TimerHandler],
        *,
        max_sleep_s: float = 5.0,
        busy_sleep_s: float = 0.25,
        max_attempts: int = 10,
        backoff_first_s: float = 1.0,
        backoff_max_s: float = 600.0,
        stats_every_s: float = 15.0,
        batch: int = 500,
    ) -> None:
        self.db = db
        self.uow_factory = uow_factory
        self.handlers = dict(handlers)
        self.kinds = sorted(self.handlers)
        self.max_sleep_s = max_sleep_s
        self.busy_sleep_s = busy_sleep_s  # a due row that another replica holds: look again after this
        self.max_attempts = max_attempts
        self.backoff_first_s = backoff_first_s
        self.backoff_max_s = backoff_max_s
        self.stats_every_s = stats_every_s
        self.batch = batch
        self.fired = 0
        self.failures = 0
        self._wake = asyncio.Event()
        self._wake_at: datetime | None = None  # when the sleeping loop looks next; None while it works
        self._stats_at = 0.0

    def wake(self, due_at: datetime | None = None) -> None:
        """A timer due at `due_at` was committed: look sooner if the loop would sleep past it."""
        if due_at is None or self._wake_at is None or due_at < self._wake_at:
            self._wake.set()

    async def run(self) -> None:
        if not self.kinds:
            await asyncio.Event().wait()  # no handlers: idle until cancelled
        while True:
            self._wake_at = None
            self._wake.clear()
            fired = await self.run_once()
            if fired >= self.batch:
                continue
            delay = await self._next_delay()
            if delay is None:
                sleep = self.max_sleep_s
            elif delay <= 0:  # due, yet nothing was claimable: another replica is firing it
                sleep = self.busy_sleep_s if fired == 0 else 0.0
            else:
                sleep = min(delay, self.max_sleep_s)
            if sleep <= 0:
                continue
            self._wake_at = utcnow() + timedelta(seconds=sleep)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), sleep)

    async def run_once(self) -> int:
        """Fire due timers, one transaction each, until none is due (or `batch` fired). Returns how many."""
        n = 0
        while n < self.batch and await self.fire_one():
            n += 1
        return n

    async def fire_one(self) -> bool:
        """Claim one due timer and fire it. False when none is due (or every due one is held elsewhere)."""
        uow = self.uow_factory()
        row: dict[str, Any] | None = None
        token = None
        try:
            async with uow:
                found = (await uow.session.execute(_CLAIM, {"kinds": self.kinds})).mappings().first()
                if found is None:
                    return False
                row = dict(found)
                await uow.session.execute(_DELETE, {"id": row["id"]})
                token = correlation_id_var.set(row["correlation_id"] or f"timer:{row['kind']}:{row['key']}")
                await self.handlers[row["kind"]](uow, row["key"], row["payload"])
        except Exception as exc:
            if row is None:
                raise  # the claim itself failed (database down): the supervisor restarts the loop
            await self._failed(row, exc)
            return True
        finally:
            if token is not None:
                correlation_id_var.reset(token)
        self.fired += 1
        late = max(float(row["late_s"] or 0.0), 0.0)
        metrics.TIMERS_FIRED.labels(row["kind"]).inc()
        metrics.TIMER_LATENESS.labels(row["kind"]).observe(late)
        log.info("timer fired", kind=row["kind"], key=row["key"], late_s=round(late, 3),
                 attempts=row["attempts"] + 1)  # fmt: skip
        return True

    async def _failed(self, row: dict[str, Any], exc: Exception) -> None:
        self.failures += 1
        metrics.TIMER_FAILURES.labels(row["kind"]).inc()
        attempts = row["attempts"] + 1
        transient = classify(exc) is FailureClass.TRANSIENT
        give_up = not transient and attempts >= self.max_attempts
        delay = min(self.backoff_first_s * 2 ** (attempts - 1), self.backoff_max_s)
        error = describe(exc, 500)
        async with self.db.transaction() as session:
            await session.execute(
                _FAILED,
                {"id": row["id"], "version": row["version"], "error": error, "give_up": give_up,
                 "delay": delay},
            )  # fmt: skip
        fields = {"kind": row["kind"], "key": row["key"], "attempts": attempts,
                  "error_class": type(exc).__name__, "error": error}  # fmt: skip
        if give_up:
            log.error("timer handler failed for the last time; the timer stays, marked failed", **fields)
        else:
            log.warning("timer handler failed; retrying later", retry_in_s=delay, **fields)

    async def _next_delay(self) -> float | None:
        """Seconds until the next due timer (database clock), None when there is none; refreshes the
        gauges every `stats_every_s`."""
        async with self.db.engine.connect() as conn:
            delay = (await conn.execute(_NEXT, {"kinds": self.kinds})).scalar()
            if time.monotonic() >= self._stats_at:
                self._stats_at = time.monotonic() + self.stats_every_s
                found = {k: (p, o, f) for k, p, o, f in await conn.execute(_STATS, {"kinds": self.kinds})}
                for kind in self.kinds:
                    pending, overdue, failed = found.get(kind, (0, 0, 0))
                    metrics.TIMERS_PENDING.labels(kind).set(pending)
                    metrics.TIMERS_OVERDUE.labels(kind).set(overdue)
                    metrics.TIMERS_DEAD.labels(kind).set(failed)
            await conn.rollback()
        return None if delay is None else float(delay)
