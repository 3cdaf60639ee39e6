"""Group commit on the fake unit of work: shared commits, per-request outcomes, nothing half-applied."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from omni_chassis.context import correlation_id_var
from omni_chassis.groupcommit import GroupCommit
from omni_chassis.uow import FakeUnitOfWork
from omni_contracts.events.diagnostics import ProbeV1


class Refused(Exception):
    """A check that fails before anything is written."""


class Shared:
    """One fake unit of work reused for every group, so commits can be counted."""

    def __init__(self, fail_commits: int = 0) -> None:
        self.uow = FakeUnitOfWork(repo=None)
        self.fail_commits = fail_commits
        original = self.uow._commit

        async def commit() -> None:
            if self.fail_commits:
                self.fail_commits -= 1
                raise ConnectionResetError("connection reset while committing")
            await original()

        self.uow._commit = commit  # type: ignore[method-assign]

    def __call__(self) -> FakeUnitOfWork[Any]:
        return self.uow


def ping(n: int) -> ProbeV1:
    return ProbeV1(seq=n, sent_at_ns=0, body=f"ping {n}")


def work(n: int, *, refuse: bool = False, crash: bool = False):
    async def run(uow: FakeUnitOfWork[Any]) -> int:
        async with uow:
            uow.emit(ping(n), key=str(n))
            if refuse:
                raise Refused(f"request {n} refused")
            if crash:
                raise RuntimeError(f"request {n} crashed")
            return n

    return run


def messages(uow: FakeUnitOfWork[Any]) -> list[str]:
    return sorted(e.data.body for e in uow.committed_events)


async def test_concurrent_requests_share_commits_and_each_gets_its_own_result():
    shared = Shared()
    group = GroupCommit(shared, clean=(Refused,), flushers=1)
    results = await asyncio.gather(*(group.submit(work(i)) for i in range(50)))
    await group.close()
    assert results == list(range(50))
    assert messages(shared.uow) == sorted(f"ping {i}" for i in range(50))
    assert shared.uow.commits < 50  # queued while the first group committed: far fewer transactions


async def test_a_refused_request_gets_its_error_and_leaves_nothing_while_the_others_commit():
    shared = Shared()
    group = GroupCommit(shared, clean=(Refused,), flushers=1)
    outcomes = await asyncio.gather(
        *(group.submit(work(i, refuse=i == 3)) for i in range(6)), return_exceptions=True
    )
    await group.close()
    assert isinstance(outcomes[3], Refused) and str(outcomes[3]) == "request 3 refused"
    assert [o for i, o in enumerate(outcomes) if i != 3] == [0, 1, 2, 4, 5]
    assert messages(shared.uow) == [f"ping {i}" for i in (0, 1, 2, 4, 5)]
    assert shared.uow.rollbacks == 0


async def test_an_unexpected_error_rolls_the_group_back_and_each_request_runs_alone():
    shared = Shared()
    group = GroupCommit(shared, clean=(Refused,), flushers=1)
    outcomes = await asyncio.gather(
        *(group.submit(work(i, crash=i == 2)) for i in range(5)), return_exceptions=True
    )
    await group.close()
    assert isinstance(outcomes[2], RuntimeError)
    assert [o for i, o in enumerate(outcomes) if i != 2] == [0, 1, 3, 4]
    assert messages(shared.uow) == [f"ping {i}" for i in (0, 1, 3, 4)]  # each once, the poison one never
    assert shared.uow.rollbacks >= 1


async def test_a_failed_commit_runs_each_request_again_alone():
    shared = Shared(fail_commits=1)
    group = GroupCommit(shared, flushers=1)
    results = await asyncio.gather(*(group.submit(work(i)) for i in range(4)))
    await group.close()
    assert results == [0, 1, 2, 3]
    assert messages(shared.uow) == [f"ping {i}" for i in range(4)]


async def test_work_runs_in_the_submitting_requests_context():
    shared = Shared()
    group = GroupCommit(shared, flushers=1)

    async def submit_as(corr: str) -> str:
        correlation_id_var.set(corr)

        async def run(uow: FakeUnitOfWork[Any]) -> str:
            async with uow:
                env = uow.emit(ping(0), key="k")
                return env.correlation_id

        return await group.submit(run)

    got = await asyncio.gather(*(asyncio.create_task(submit_as(f"corr-{i}")) for i in range(5)))
    await group.close()
    assert got == [f"corr-{i}" for i in range(5)]


async def test_each_event_carries_the_trace_of_the_request_that_emitted_it():
    from opentelemetry.sdk.trace import TracerProvider

    tracer = TracerProvider().get_tracer("test")
    shared = Shared()
    group = GroupCommit(shared, flushers=1)

    async def request(n: int) -> tuple[int, int]:
        with tracer.start_as_current_span(f"request {n}") as span:
            await group.submit(work(n))
            return n, span.get_span_context().trace_id

    traces = dict(await asyncio.gather(*(request(i) for i in range(4))))
    await group.close()
    for env in shared.uow.committed_events:
        traceparent = shared.uow.committed_carriers[env.event_id]["traceparent"]
        assert traceparent.split("-")[1] == format(traces[env.data.seq], "032x")  # not the flusher's


async def test_a_closed_group_refuses_new_work_and_bad_sizes_are_refused():
    group = GroupCommit(Shared())
    await group.close()
    with pytest.raises(RuntimeError, match="closed"):
        await group.submit(work(1))
    with pytest.raises(ValueError, match="at least 1"):
        GroupCommit(Shared(), max_items=0)
