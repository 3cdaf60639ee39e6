"""The unit of work: one transaction, and everything that must commit with it.

    class OrderUnitOfWork(SqlUnitOfWork[store.Orders]): ...       # or SqlUnitOfWork(db, store.Orders)

    async def cancel(uow: UnitOfWork[Orders], order_id: str) -> ...:
        async with uow:
            order = await uow.repo.get(order_id, for_update=True)
            ...
            uow.emit(OrderCancelledV1(...), key=order_id)
            uow.defer(lambda: uow.repo.save(order))      # a collected write, run at commit

It holds:
- the session and its transaction (`uow.session`; the repository `uow.repo` is bound to it);
- staged events: `emit`/`stage` collect envelopes, written to the outbox at commit, in order;
- the inbox claim: `claim(consumer, events)` returns the event ids not handled before;
- collected writes: `defer(fn)` runs `fn()` at commit, in registration order, before the events are staged;
- parking: `park(env, waits_for)` keeps an event until `release(waits_for)` says its fact has arrived;
- durable timers: `schedule_timer(kind, key, due_at, payload)` / `cancel_timer(kind, key)`, written at
  commit (timers.py): a timer exists iff the transaction that set it committed.

`async with uow:` is re-entrant: a consumer (the chassis) opens it for the inbox claim and the use case opens
it again; only the outermost exit commits (or rolls back on any error, dropping what was staged).

`FakeUnitOfWork` does the same in memory, for service tests without I/O: it records what was committed
(`timers` holds what is scheduled; `fire_timer`/`fire_due` run a handler as the timer loop would).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, Self, TypeVar
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from omni_contracts import Envelope, EventPayload, utcnow

from . import inbox, metrics
from . import timers as timers_mod
from .db import Database
from .outbox import build, stage, trace_carrier
from .timers import Payload, Timer, TimerHandler, timer_request

R = TypeVar("R")
Cause = Envelope[Any] | None
Deferred = Callable[[], Awaitable[Any]]


@dataclass(frozen=True)
class ParkRequest:
    consumer: str | None  # None: the consumer that is handling the event (set by the chassis)
    env: Envelope[Any]
    waits_for: str
    reason: str


class UnitOfWork(Generic[R]):
    """What every use case runs in. Subclasses provide the transaction (`_begin`, `_commit`, `_rollback`)
    and how staged things are written (`_write`)."""

    repo: R
    consumer: str | None = None  # the consumer group handling the current event(s), set by the chassis
    on_timer: Callable[[datetime], None] | None = None  # the runtime's wake-up for its timer loop

    def __init__(self) -> None:
        self._depth = 0
        self._reset()

    def _reset(self) -> None:
        self.events: list[tuple[Envelope[Any], Cause]] = []
        self.carriers: dict[UUID, dict[str, str]] = {}  # event id -> its trace headers, taken at emit
        self.deferred: list[Deferred] = []
        self.parks: list[ParkRequest] = []
        self.releases: list[str] = []
        self.after_commit: list[Callable[[], None]] = []
        self.timer_requests: dict[tuple[str, str], Timer] = {}  # the last request per (kind, key) wins

    @property
    def active(self) -> bool:
        return self._depth > 0

    async def __aenter__(self) -> Self:
        if self._depth == 0:
            self._reset()
            await self._begin()
        self._depth += 1
        return self

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self._depth -= 1
        if self._depth > 0:
            return
        if exc_type is not None:
            self._reset()
            await self._rollback()
            return
        try:
            for fn in self.deferred:
                await fn()
            await self._write()
        except BaseException:
            self._reset()
            await self._rollback()
            raise
        await self._commit()
        callbacks = self.after_commit
        self._reset()
        for cb in callbacks:
            cb()

    # -- what a use case collects ----------------------------------------------------------------------------
    def emit(
        self, data: EventPayload, *, key: str, cause: Cause = None, correlation_id: str | None = None
    ) -> Envelope[Any]:
        """Build an event and stage it: it reaches the outbox at commit, or nowhere."""
        self._require_active()
        env = build(data, key=key, cause=cause, correlation_id=correlation_id)
        self.events.append((env, cause))
        self.carriers[env.event_id] = trace_carrier(cause)
        return env

    def stage(self, envelopes: Iterable[tuple[Envelope[Any], Cause]]) -> None:
        self._require_active()
        for env, cause in envelopes:
            self.events.append((env, cause))
            self.carriers[env.event_id] = trace_carrier(cause)

    def defer(self, fn: Deferred) -> None:
        """A collected write: `fn()` runs at commit, inside the transaction, before events are staged."""
        self._require_active()
        self.deferred.append(fn)

    def park(self, env: Envelope[Any], waits_for: str, reason: str = "", consumer: str | None = None) -> None:
        """Keep `env` until `release(waits_for)`; the consumer does not handle it now."""
        self._require_active()
        self.parks.append(ParkRequest(consumer, env, waits_for, reason or f"waiting for {waits_for}"))

    def release(self, *waits_for: str) -> None:
        """The facts `waits_for` now exist (at commit): events parked on them are applied again."""
        self._require_active()
        self.releases.extend(waits_for)

    def schedule_timer(
        self, kind: str, key: str, due_at: datetime | timedelta, payload: Payload = None
    ) -> None:
        """At commit, (kind, key) fires at `due_at` (a timedelta: from now); an existing one is moved."""
        self._require_active()
        t = timer_request(kind, key, due_at, payload)
        self.timer_requests.pop((kind, key), None)
        self.timer_requests[(kind, key)] = t

    def cancel_timer(self, kind: str, key: str) -> None:
        """At commit, (kind, key) no longer fires (nothing happens when there is no such timer)."""
        self._require_active()
        self.timer_requests.pop((kind, key), None)
        self.timer_requests[(kind, key)] = timer_request(kind, key, None, None)

    async def lock_timer(self, kind: str, key: str) -> bool:
        """Lock a committed timer's row until this unit of work ends (False: there is none). A use case that
        settles what a timer decides (a confirmation racing an expiry) calls this first: it then waits for a
        firing in progress, and a firing waits for it, instead of the two taking their rows in opposite
        orders (a deadlock)."""
        raise NotImplementedError

    def on_commit(self, cb: Callable[[], None]) -> None:
        self.after_commit.append(cb)

    def _require_active(self) -> None:
        if self._depth == 0:
            raise RuntimeError("use the unit of work inside `async with uow:`")

    # -- what subclasses implement ---------------------------------------------------------------------------
    async def claim(self, consumer: str, events: Sequence[tuple[UUID, str | None]]) -> set[UUID]:
        raise NotImplementedError

    async def _begin(self) -> None:
        raise NotImplementedError

    async def _write(self) -> None:
        raise NotImplementedError

    async def _commit(self) -> None:
        raise NotImplementedError

    async def _rollback(self) -> None:
        raise NotImplementedError


# how long an unreleased parked event waits before it is tried again anyway (closes the race where its fact
# committed between the handler's check and the park): 30 s, doubling, at most 10 minutes
PARK_RECHECK_FIRST_S = 30.0
PARK_RECHECK_MAX_S = 600.0

_PARK = text(
    "INSERT INTO parked (consumer, waits_for, event_id, event_type, topic, key, value, headers, reason, "
    "attempts, first_parked_at, next_attempt_at) "
    "VALUES (:consumer, :waits_for, :event_id, :event_type, :topic, :key, :value, CAST(:headers AS jsonb), "
    ":reason, :attempts, COALESCE(CAST(:first AS timestamptz), now()), :next) "
    "ON CONFLICT ON CONSTRAINT parked_consumer_event DO UPDATE SET waits_for = EXCLUDED.waits_for, "
    "reason = EXCLUDED.reason, attempts = EXCLUDED.attempts, next_attempt_at = EXCLUDED.next_attempt_at, "
    "released_at = NULL, parked_at = now()"
)
_RELEASE = text(
    "UPDATE parked SET released_at = now(), next_attempt_at = now() "
    "WHERE waits_for = ANY(CAST(:keys AS text[])) AND released_at IS NULL"
)


class SqlUnitOfWork(UnitOfWork[R]):
    """The real one: an SQLAlchemy session in one transaction on the service's database."""

    def __init__(self, db: Database, repo: Callable[[AsyncSession], R] | None = None) -> None:
        super().__init__()
        self.db = db
        self._repo_factory = repo
        self.session: AsyncSession
        self.retry_attempts: dict[UUID, int] = {}  # set by the parking loop when it re-applies parked events
        self.first_parked: dict[UUID, Any] = {}
        self.on_released: Callable[[], None] | None = None  # the runtime's wake-up for its parking loop
        self.last_parked: set[UUID] = set()  # event ids parked by the last commit

    async def _begin(self) -> None:
        self.last_parked = set()
        self.session = self.db.sessions()
        await self.session.begin()
        self.repo = self._repo_factory(self.session) if self._repo_factory else self.session  # type: ignore[assignment]

    async def claim(self, consumer: str, events: Sequence[tuple[UUID, str | None]]) -> set[UUID]:
        self._require_active()
        return await inbox.claim_many(self.session, consumer, events)

    async def lock_timer(self, kind: str, key: str) -> bool:
        self._require_active()
        return await timers_mod.lock(self.session, kind, key)

    async def _write(self) -> None:
        await stage(self.session, self.events, carriers=self.carriers)
        if self.parks:
            now = utcnow()
            rows = []
            for p in self.parks:
                consumer = p.consumer or self.consumer
                if consumer is None:
                    raise RuntimeError("park() outside a consumer: name the consumer")
                attempts = self.retry_attempts.get(p.env.event_id, 0)
                delay = min(PARK_RECHECK_FIRST_S * 2**attempts, PARK_RECHECK_MAX_S)
                rows.append(
                    {
                        "consumer": consumer,
                        "waits_for": p.waits_for,
                        "event_id": p.env.event_id,
                        "event_type": p.env.event_type,
                        "topic": type(p.env.data).__topic__,
                        "key": p.env.key,
                        "value": p.env.to_bytes(),
                        "headers": json.dumps([[k, v.decode()] for k, v in p.env.headers()]),
                        "reason": p.reason,
                        "attempts": attempts,
                        "first": self.first_parked.get(p.env.event_id),
                        "next": now + timedelta(seconds=delay),
                    }
                )
            await self.session.execute(_PARK, rows)
            for row in rows:
                metrics.PARKED_TOTAL.labels(row["consumer"]).inc()
            self.last_parked = {p.env.event_id for p in self.parks}
        if self.releases:
            result = await self.session.execute(_RELEASE, {"keys": sorted(set(self.releases))})
            if result.rowcount and self.on_released is not None:  # type: ignore[attr-defined]
                self.on_commit(self.on_released)
        if self.timer_requests:
            earliest = await timers_mod.write(self.session, self.timer_requests.values())
            wake = self.on_timer
            if earliest is not None and wake is not None:
                self.on_commit(lambda: wake(earliest))

    async def _commit(self) -> None:
        try:
            await self.session.commit()
        finally:
            await self.session.close()

    async def _rollback(self) -> None:
        try:
            await self.session.rollback()
        finally:
            await self.session.close()


class FakeUnitOfWork(UnitOfWork[R]):
    """In memory, for service tests: `repo` is a fake repository; what commits is recorded."""

    def __init__(self, repo: R) -> None:
        super().__init__()
        self.repo = repo
        self.claimed: set[tuple[str, UUID]] = set()
        self.committed_events: list[Envelope[Any]] = []
        self.committed_carriers: dict[UUID, dict[str, str]] = {}  # event id -> trace headers it carries
        self.parked: dict[str, list[Envelope[Any]]] = {}
        self.released: list[str] = []
        self.timers: dict[tuple[str, str], Timer] = {}  # (kind, key) -> what is scheduled after the commits
        self.commits = 0
        self.rollbacks = 0
        self._claims: set[tuple[str, UUID]] = set()

    @property
    def published(self) -> list[EventPayload]:
        """The payloads of every committed event, in order."""
        return [e.data for e in self.committed_events]

    def of_type(self, event_type: str) -> list[Envelope[Any]]:
        return [e for e in self.committed_events if e.event_type == event_type]

    async def claim(self, consumer: str, events: Sequence[tuple[UUID, str | None]]) -> set[UUID]:
        self._require_active()
        fresh = {eid for eid, _ in events if (consumer, eid) not in self.claimed | self._claims}
        self._claims |= {(consumer, eid) for eid in fresh}
        return fresh

    async def _begin(self) -> None:
        self._claims = set()
        begin = getattr(self.repo, "begin", None)
        if begin is not None:
            begin()

    async def _write(self) -> None:
        self._pending = (list(self.events), list(self.parks), list(self.releases), dict(self.timer_requests))

    async def _commit(self) -> None:
        events, parks, releases, timer_requests = self._pending
        for k, t in timer_requests.items():
            if t.due_at is None:
                self.timers.pop(k, None)
            else:
                self.timers[k] = t
        self.committed_events.extend(e for e, _ in events)
        self.committed_carriers.update({e.event_id: self.carriers.get(e.event_id, {}) for e, _ in events})
        for p in parks:
            self.parked.setdefault(p.waits_for, []).append(p.env)
        self.released.extend(releases)
        self.claimed |= self._claims
        self.commits += 1
        commit = getattr(self.repo, "commit", None)
        if commit is not None:
            commit()

    async def _rollback(self) -> None:
        self._claims = set()
        self.rollbacks += 1
        rollback = getattr(self.repo, "rollback", None)
        if rollback is not None:
            rollback()

    async def lock_timer(self, kind: str, key: str) -> bool:
        self._require_active()
        return (kind, key) in self.timers

    async def fire_timer(self, kind: str, key: str, handler: TimerHandler) -> bool:
        """Fire a scheduled timer now, as the timer loop does: its removal and the handler's effects in one
        unit of work (a handler that raises leaves it scheduled, and the error propagates). False: none."""
        found = self.timers.get((kind, key))
        if found is None:
            return False
        async with self:
            self.cancel_timer(kind, key)
            await handler(self, key, found.payload)
        return True

    async def fire_due(
        self, handlers: dict[str, TimerHandler], now: datetime | None = None
    ) -> list[tuple[str, str]]:
        """Fire every timer due at `now` (default: the present) that has a handler, in due order; returns
        the (kind, key) fired. Pass a future `now` to play time forward."""
        now = now or datetime.now().astimezone()
        due = sorted(
            (t for t in self.timers.values() if t.kind in handlers and t.due_at and t.due_at <= now),
            key=lambda t: t.due_at or now,
        )
        fired = []
        for t in due:
            if await self.fire_timer(t.kind, t.key, handlers[t.kind]):
                fired.append((t.kind, t.key))
        return fired

    def take_released(self) -> list[Envelope[Any]]:
        """The parked events whose facts were released (removed from `parked`): feed them to the use case
        again, as the chassis would."""
        out: list[Envelope[Any]] = []
        for key in list(self.released):
            out.extend(self.parked.pop(key, []))
        self.released.clear()
        return out


def uow_factory(
    db: Database, repo: Callable[[AsyncSession], Any] | None = None
) -> Callable[[], SqlUnitOfWork[Any]]:
    """A factory of unit of work on `db` with the service's repository."""
    return lambda: SqlUnitOfWork(db, repo)


def with_session(fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """Adapt a handler written as `fn(session, envs)` to the unit of work: `fn(uow.session, envs)`, events
    staged straight into the session. For handlers not yet moved onto the unit of work."""

    async def handler(uow: Any, envs: Any, *args: Any, **kw: Any) -> Any:
        return await fn(uow.session, envs, *args, **kw)

    handler.__name__ = getattr(fn, "__name__", "handler")
    return handler
