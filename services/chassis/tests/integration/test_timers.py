"""Durable timers on real PostgreSQL: set in the caller's transaction, fired after (never before) their due
time, moved and cancelled, kept across a restart, fired once with two loops, retried with backoff."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import pytest
from sqlalchemy import text

from omni_chassis.failures import PermanentError
from omni_chassis.testing import eventually
from omni_chassis.timers import TimerLoop
from omni_chassis.uow import SqlUnitOfWork
from omni_contracts import utcnow

pytestmark = pytest.mark.integration
KIND = "test.timer"


async def _db(make_database):
    db = await make_database("timers")
    async with db.transaction() as s:
        await s.execute(
            text("CREATE TABLE effects (key text NOT NULL, at timestamptz NOT NULL DEFAULT now())")
        )
    return db


async def _q(db, sql, **params):
    async with db.transaction() as s:
        return (await s.execute(text(sql), params)).all()


async def record(uow, key, payload):
    """The handler of the tests: its one effect, in the timer's unit of work."""
    async with uow:
        await uow.session.execute(text("INSERT INTO effects (key) VALUES (:k)"), {"k": key})


async def _schedule(db, *timers, loop: TimerLoop | None = None, cancel=()):
    uow = SqlUnitOfWork(db)
    if loop is not None:
        uow.on_timer = loop.wake
    async with uow:
        for key, due, *payload in timers:
            uow.schedule_timer(KIND, key, due, *payload)
        for key in cancel:
            uow.cancel_timer(KIND, key)


@asynccontextmanager
async def running(db, handler=record, **kw) -> AsyncIterator[TimerLoop]:
    loop = TimerLoop(db, lambda: SqlUnitOfWork(db), {KIND: handler}, **kw)
    task = asyncio.create_task(loop.run())
    try:
        yield loop
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_a_timer_fires_after_its_due_time_never_before_and_a_commit_wakes_the_loop(make_database):
    db = await _db(make_database)
    async with running(db, max_sleep_s=30) as loop:  # asleep for 30 s unless woken
        await asyncio.sleep(0.2)  # the loop is asleep now (no timers)
        due = utcnow() + timedelta(seconds=1.5)
        await _schedule(db, ("k1", due, {"order_id": "O1"}), loop=loop)

        async def state():
            # one snapshot: is the row still in the future, and how many effects are there
            ((future, fired),) = await _q(
                db,
                "SELECT (SELECT due_at > now() FROM timers WHERE key = 'k1'), (SELECT count(*) FROM effects)",
            )
            return future, fired

        while (s := await state())[0]:
            assert s[1] == 0, "fired while its due time was still in the future"
            await asyncio.sleep(0.05)
        await eventually(lambda: _fired_keys(db), timeout=5)
    ((at,),) = await _q(db, "SELECT at FROM effects WHERE key = 'k1'")
    assert due <= at < due + timedelta(seconds=3), "woken by the commit, not by its 30 s poll"
    assert await _q(db, "SELECT 1 FROM timers") == [], "the row is deleted with the effect"
    assert loop.fired == 1


async def _fired_keys(db) -> list[str]:
    return [k for (k,) in await _q(db, "SELECT key FROM effects ORDER BY at, key")]


async def test_rescheduling_moves_a_timer_and_cancelling_removes_it(make_database):
    db = await _db(make_database)
    now = utcnow()
    await _schedule(
        db, ("moved", now + timedelta(seconds=-2), {"v": 1}), ("cancelled", now - timedelta(seconds=2))
    )
    await _schedule(db, ("moved", now + timedelta(hours=1), {"v": 2}), cancel=["cancelled"])
    await _schedule(db, ("sentinel", now - timedelta(seconds=1)))  # due after both original times
    ((due, payload),) = await _q(db, "SELECT due_at, payload FROM timers WHERE key = 'moved'")
    assert due > now + timedelta(minutes=59) and payload == {"v": 2}
    async with running(db):
        await eventually(lambda: _fired_keys(db))
        # the loop fires due timers in due order: the sentinel firing means the other two were not due
        assert await _fired_keys(db) == ["sentinel"]
    assert [k for (k,) in await _q(db, "SELECT key FROM timers")] == ["moved"]


async def test_a_rolled_back_transaction_leaves_no_timer(make_database):
    db = await _db(make_database)
    with pytest.raises(ZeroDivisionError):
        uow = SqlUnitOfWork(db)
        async with uow:
            uow.schedule_timer(KIND, "ghost", utcnow())
            1 / 0  # noqa: B018
    assert await _q(db, "SELECT 1 FROM timers") == []


async def test_a_timer_survives_a_restart_of_its_loop(make_database):
    db = await _db(make_database)
    async with running(db) as first:
        await _schedule(db, ("k", utcnow() + timedelta(seconds=1)), loop=first)
    # the first loop is gone before the due time: the row stays
    assert [k for (k,) in await _q(db, "SELECT key FROM timers WHERE due_at > now()")] == ["k"]
    assert await _fired_keys(db) == []
    async with running(db) as second:
        await eventually(lambda: _fired_keys(db), timeout=10)
    assert await _fired_keys(db) == ["k"] and second.fired == 1 and first.fired == 0


async def test_two_loops_never_fire_a_timer_twice(make_database):
    db = await _db(make_database)
    other_db = type(db)(db.dsn)  # the second replica: its own engine

    async def slow(uow, key, payload):
        await record(uow, key, payload)
        await asyncio.sleep(0.005)  # hold the row while the other loop looks

    now = utcnow()
    await _schedule(db, *((f"k{i:03}", now - timedelta(milliseconds=i)) for i in range(200)))
    try:
        async with running(db, slow) as a, running(other_db, slow) as b:

            async def all_fired():
                ((n,),) = await _q(db, "SELECT count(*) FROM effects")
                return n == 200

            await eventually(all_fired, timeout=30)
    finally:
        await other_db.dispose()
    ((total, distinct),) = await _q(db, "SELECT count(*), count(DISTINCT key) FROM effects")
    assert (total, distinct) == (200, 200)
    assert a.fired + b.fired == 200 and a.fired > 0 and b.fired > 0
    assert await _q(db, "SELECT 1 FROM timers") == []


async def test_a_failing_handler_is_retried_with_backoff_then_gives_up_visibly(make_database):
    db = await _db(make_database)
    calls: dict[str, int] = {}

    async def flaky(uow, key, payload):
        async with uow:
            await uow.session.execute(text("INSERT INTO effects (key) VALUES (:k)"), {"k": key + ":partial"})
            calls[key] = calls.get(key, 0) + 1
            if key == "broken" or calls[key] < 3:
                raise PermanentError(f"cannot reach buyer 13812345678 for {key}")

    first_due = utcnow()
    await _schedule(db, ("flaky", first_due), ("broken", first_due))
    async with running(db, flaky, backoff_first_s=0.2, max_attempts=3) as loop:

        async def attempts():
            found = await _q(db, "SELECT key, attempts, due_at, last_error FROM timers ORDER BY key")
            return found if found and all(r.attempts >= 1 for r in found) else None

        rows = await eventually(attempts, timeout=10)
        for r in rows:
            assert r.due_at >= first_due + timedelta(seconds=0.2), "pushed back"
            assert "PermanentError" in r.last_error and "13812345678" not in r.last_error, r.last_error

        async def settled():
            found = await _q(db, "SELECT key, attempts, failed_at FROM timers")
            return calls.get("flaky") == 3 and [(k, n, f is not None) for k, n, f in found] == [
                ("broken", 3, True)
            ]

        await eventually(settled, timeout=15)
        assert await loop.run_once() == 0, "a failed timer is not retried (no spinning)"
    assert calls == {"flaky": 3, "broken": 3}
    assert await _fired_keys(db) == ["flaky:partial"], "failed attempts left nothing behind"
    assert loop.failures == 5 and loop.fired == 1

    await _schedule(db, ("broken", utcnow()))  # scheduling it again resets it
    ((attempts, failed_at, error),) = await _q(db, "SELECT attempts, failed_at, last_error FROM timers")
    assert (attempts, failed_at, error) == (0, None, None)


async def test_a_locked_timer_is_not_fired_until_the_lock_holder_ends(make_database):
    db = await _db(make_database)
    await _schedule(db, ("k", utcnow() - timedelta(seconds=1)))
    holder = SqlUnitOfWork(db)
    async with holder:
        assert await holder.lock_timer(KIND, "k") and not await holder.lock_timer(KIND, "none")
        loop = TimerLoop(db, lambda: SqlUnitOfWork(db), {KIND: record})
        assert await loop.run_once() == 0, "skipped while locked (SKIP LOCKED: no wait)"
        holder.cancel_timer(KIND, "k")  # what a confirmation does
    assert await loop.run_once() == 0 and await _fired_keys(db) == []
    assert await _q(db, "SELECT 1 FROM timers") == []
