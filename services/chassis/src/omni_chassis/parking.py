"""Parking: events that need a fact which has not arrived yet wait in the `parked` table, not in a DLQ.

A handler raises `WaitingFor("order:O1")` (or calls `uow.park(env, "order:O1")` inside a batch). The event
is stored, keyed by what it waits for, in the handler's transaction, and its inbox row is kept so a
redelivery is skipped. When a use case creates that fact it calls `uow.release("order:O1")`; at commit the
parked rows become due and this loop applies them through the same consumer's handler, in the order they
were parked, each in its own unit of work (the row is deleted in the same transaction). An unreleased row is
tried again anyway after 30 s, doubling up to 10 minutes (that closes the race where the fact commits
between the handler's check and the park). A row that waits longer than `max_age_s` (hours) goes to the
consumer's DLQ with what it waited for.

Metrics: `omni_parked_events` and `omni_parked_oldest_seconds` per consumer.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import zlib
from types import SimpleNamespace
from typing import Any

from sqlalchemy import text

from omni_contracts import DecodeError

from . import metrics
from .consumer import ConsumerRuntime, ConsumerSpec
from .failures import FailureClass, WaitingFor, classify, describe
from .logging import get_logger
from .uow import SqlUnitOfWork

log = get_logger("omni.parking")

_DUE = text(
    "SELECT id, consumer, waits_for, event_id, event_type, topic, key, value, headers, attempts, "
    "first_parked_at, EXTRACT(EPOCH FROM now() - first_parked_at) AS age_s FROM parked "
    "WHERE consumer = ANY(CAST(:consumers AS text[])) "
    "AND (next_attempt_at <= now() OR first_parked_at <= now() - make_interval(secs => :max_age)) "
    "ORDER BY id LIMIT :limit FOR UPDATE SKIP LOCKED"
)
_STATS = text(
    "SELECT consumer, count(*), EXTRACT(EPOCH FROM now() - min(first_parked_at)) FROM parked "
    "WHERE consumer = ANY(CAST(:consumers AS text[])) GROUP BY consumer"
)


_LOCK_KEY = zlib.crc32(b"omni-parking-loop") - 2**31
_TRY_LOCK = text("SELECT pg_try_advisory_xact_lock(:k)")


class ParkingLoop:
    def __init__(
        self, runtime: ConsumerRuntime, *, max_age_s: float = 6 * 3600, poll_s: float = 5.0, batch: int = 100
    ) -> None:
        # poll_s: how often due rows are looked for without a wake-up. A release in this process wakes the
        # loop at once; rechecks are due 30 s or more after a park, so a few seconds of lateness is nothing,
        # and a quiet service should not query its database every second.
        self.runtime = runtime
        self.max_age_s = max_age_s
        self.poll_s = poll_s
        self.batch = batch
        self._wake = asyncio.Event()
        runtime.on_released = self._wake.set
        self.applied = 0

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        groups = [s.group for s, _ in self.runtime.subscribers]
        if not groups:
            await asyncio.Event().wait()  # nothing to park for: idle until cancelled
        while True:
            self._wake.clear()
            n = await self.run_once(groups)
            await self._stats(groups)
            if n < self.batch:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll_s)

    async def run_once(self, groups: list[str]) -> int:
        """Apply (or expire) the due parked rows; returns how many rows were handled.

        One loop per database applies at a time (an advisory lock, held while it applies): with
        replicas, two loops would otherwise apply rows parked on the same fact side by side, out of the
        order they were parked in. A loop that does not get the lock does nothing this round."""
        # a transaction-scoped lock on a connection of its own: released whatever happens (commit, error,
        # cancellation, a connection returned to the pool), never left behind on a pooled session
        async with self.runtime.db.engine.connect() as lock_conn, lock_conn.begin():
            if not (await lock_conn.execute(_TRY_LOCK, {"k": _LOCK_KEY})).scalar():
                return 0
            return await self._apply_due(groups)

    async def _apply_due(self, groups: list[str]) -> int:
        async with self.runtime.db.transaction() as session:
            rows = (
                (
                    await session.execute(
                        _DUE, {"consumers": groups, "limit": self.batch, "max_age": self.max_age_s}
                    )
                )
                .mappings()
                .all()
            )
        handled = 0
        for row in rows:
            spec = self.runtime.spec(row["consumer"])
            if spec is None:
                continue
            await self._one(spec, dict(row))
            handled += 1
        return handled

    async def _one(self, spec: ConsumerSpec, row: dict[str, Any]) -> None:
        record = _record(row)
        if row["age_s"] > self.max_age_s:
            await self.runtime.dead_letters.send(
                spec.group,
                record,
                f"parked for {row['age_s'] / 3600:.1f} h waiting for {row['waits_for']}, which never arrived",
                attempts=row["attempts"] + 1,
            )
            await self._delete(row["id"])
            return
        try:
            env = self.runtime.registry.decode(record.value, record.headers)
        except DecodeError as exc:
            await self.runtime.dead_letters.send(spec.group, record, exc, attempts=row["attempts"] + 1)
            await self._delete(row["id"])
            return
        uow = self.runtime.new_uow(spec.group)
        if isinstance(uow, SqlUnitOfWork):
            uow.retry_attempts[env.event_id] = row["attempts"] + 1
            uow.first_parked[env.event_id] = row["first_parked_at"]
        try:
            async with uow:
                await _delete_in(uow, row["id"])
                await self.runtime.apply(spec, [env], uow)
        except _Taken:
            return
        except Exception as exc:
            kind = classify(exc)
            if kind is FailureClass.WAITING:
                assert isinstance(exc, WaitingFor)
                await self._repark(spec, row, env, exc)
                return
            if kind is FailureClass.TRANSIENT:
                log.warning(
                    "parked event not applied yet (transient)", consumer=spec.group, error=describe(exc)
                )
                return  # stays due; the next round tries again
            log.error("parked event failed", consumer=spec.group, error=describe(exc))
            await self.runtime.dead_letters.send(spec.group, record, exc, attempts=row["attempts"] + 1)
            await self._delete(row["id"])
            return
        if isinstance(uow, SqlUnitOfWork) and env.event_id in uow.last_parked:
            return  # the handler parked it again (still waiting): not applied
        self.applied += 1
        metrics.UNPARKED_TOTAL.labels(spec.group).inc()
        log.info(
            "parked event applied",
            consumer=spec.group,
            waited_for=row["waits_for"],
            event_id=str(env.event_id),
        )

    async def _repark(self, spec: ConsumerSpec, row: dict[str, Any], env: Any, waiting: WaitingFor) -> None:
        uow = self.runtime.new_uow(spec.group)
        assert isinstance(uow, SqlUnitOfWork)
        uow.retry_attempts[env.event_id] = row["attempts"] + 1
        uow.first_parked[env.event_id] = row["first_parked_at"]
        async with uow:
            uow.park(env, waiting.key, waiting.reason)

    async def _delete(self, row_id: int) -> None:
        async with self.runtime.db.transaction() as session:
            await session.execute(text("DELETE FROM parked WHERE id = :id"), {"id": row_id})

    async def _stats(self, groups: list[str]) -> None:
        with contextlib.suppress(Exception):
            async with self.runtime.db.transaction() as session:
                found = {c: (n, age) for c, n, age in (await session.execute(_STATS, {"consumers": groups}))}
            for g in groups:
                n, age = found.get(g, (0, 0.0))
                metrics.PARKED.labels(g).set(n)
                metrics.PARKED_OLDEST_SECONDS.labels(g).set(float(age or 0.0))


class _Taken(Exception):
    """Another replica applied this parked row first."""


async def _delete_in(uow: SqlUnitOfWork[Any] | Any, row_id: int) -> None:
    result = await uow.session.execute(text("DELETE FROM parked WHERE id = :id"), {"id": row_id})
    if result.rowcount != 1:
        raise _Taken(row_id)


def _record(row: dict[str, Any]) -> Any:
    """A ConsumerRecord-like view of a parked row (what decode and the DLQ take)."""
    raw = json.loads(row["headers"]) if isinstance(row["headers"], str) else row["headers"]
    headers = [(k, v.encode()) for k, v in raw]
    return SimpleNamespace(
        topic=row["topic"],
        partition=-1,
        offset=-1,
        key=(row["key"] or "").encode(),
        value=bytes(row["value"]),
        headers=headers,
    )
