"""Durable timers in the unit of work, with the fake (no I/O): scheduled at commit only, moved, cancelled,
fired as the loop fires them; and the loop's wake-up rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from omni_chassis.timers import TimerLoop, timer_request
from omni_chassis.uow import FakeUnitOfWork

KIND = "test.expiry"


def _uow() -> FakeUnitOfWork[None]:
    return FakeUnitOfWork(None)


def _at(minutes: float) -> datetime:
    return datetime.now(UTC) + timedelta(minutes=minutes)


async def test_a_timer_exists_once_its_unit_of_work_commits_and_not_after_a_rollback():
    uow = _uow()
    with pytest.raises(RuntimeError):
        uow.schedule_timer(KIND, "k0", _at(1))  # outside `async with`
    async with uow:
        uow.schedule_timer(KIND, "k1", _at(5), {"order_id": "O1"})
        assert uow.timers == {}, "not before the commit"
    assert uow.timers[(KIND, "k1")].payload == {"order_id": "O1"}

    with pytest.raises(ValueError, match="boom"):
        async with uow:
            uow.schedule_timer(KIND, "k2", _at(5))
            raise ValueError("boom")
    assert set(uow.timers) == {(KIND, "k1")}, "a rolled-back timer does not exist"


async def test_scheduling_again_moves_it_and_the_last_request_in_a_unit_of_work_wins():
    uow = _uow()
    async with uow:
        uow.schedule_timer(KIND, "k", _at(5), {"v": 1})
    async with uow:
        uow.schedule_timer(KIND, "k", _at(10), {"v": 2})
    assert uow.timers[(KIND, "k")].payload == {"v": 2}
    assert uow.timers[(KIND, "k")].due_at > _at(9)

    async with uow:
        uow.cancel_timer(KIND, "k")
        uow.schedule_timer(KIND, "k", timedelta(minutes=1))  # cancel then schedule: scheduled
    assert (KIND, "k") in uow.timers
    async with uow:
        uow.schedule_timer(KIND, "k", _at(3))
        uow.cancel_timer(KIND, "k")  # schedule then cancel: gone
        uow.cancel_timer(KIND, "never-set")  # cancelling nothing is fine
    assert uow.timers == {}


def test_requests_are_checked_when_made():
    with pytest.raises(ValueError, match="timezone-aware"):
        timer_request(KIND, "k", datetime(2030, 1, 1), None)
    with pytest.raises(ValueError, match="kind and a key"):
        timer_request("", "k", _at(1), None)
    with pytest.raises(TypeError):
        timer_request(KIND, "k", _at(1), {"x": object()})  # not JSON


async def test_firing_runs_the_handler_and_removes_the_timer_in_one_unit_of_work():
    uow = _uow()
    seen: list[tuple[str, object]] = []

    async def handler(u, key, payload):
        async with u:
            seen.append((key, payload))

    async with uow:
        uow.schedule_timer(KIND, "past", _at(-1), {"n": 1})
        uow.schedule_timer(KIND, "future", _at(30))
        uow.schedule_timer("other.kind", "past", _at(-1))
    assert await uow.fire_due({KIND: handler}) == [(KIND, "past")]
    assert seen == [("past", {"n": 1})]
    assert set(uow.timers) == {(KIND, "future"), ("other.kind", "past")}
    assert await uow.fire_due({KIND: handler}, now=_at(31)) == [(KIND, "future")]
    assert not await uow.fire_timer(KIND, "future", handler), "fired once"


async def test_a_failing_handler_leaves_the_timer_and_a_handler_may_schedule_it_again():
    uow = _uow()

    async def failing(u, key, payload):
        async with u:
            u.schedule_timer(KIND, "side-effect", _at(1))
            raise RuntimeError("no")

    async def recurring(u, key, payload):
        async with u:
            u.schedule_timer(KIND, key, _at(60), {"round": payload["round"] + 1})

    async with uow:
        uow.schedule_timer(KIND, "k", _at(-1), {"round": 1})
    with pytest.raises(RuntimeError):
        await uow.fire_timer(KIND, "k", failing)
    assert set(uow.timers) == {(KIND, "k")}, "still scheduled; the handler's writes rolled back"
    assert await uow.fire_timer(KIND, "k", recurring)
    assert uow.timers[(KIND, "k")].payload == {"round": 2}


def test_the_loop_is_woken_only_by_a_timer_due_before_it_would_look_anyway():
    loop = TimerLoop(None, lambda: None, {KIND: lambda *a: None})  # type: ignore[arg-type]
    loop._wake_at = _at(0.05)  # asleep for 3 more seconds
    loop.wake(_at(10))
    assert not loop._wake.is_set()
    loop.wake(_at(0.01))
    assert loop._wake.is_set()
    loop._wake.clear()
    loop._wake_at = None  # working: any new timer makes it look again before sleeping
    loop.wake(_at(10))
    assert loop._wake.is_set()
