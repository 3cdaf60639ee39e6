"""The shape every durable outbound worker shares (the stock push, the shipment write-back): a supervised
loop that claims due rows of its table in short transactions (`FOR UPDATE SKIP LOCKED` and a lease, so
replicas share the work and no transaction stays open across a platform call), runs up to `concurrency`
calls side by side, and sleeps until it is woken in-process (`Signal.wake`, after a commit that made
something due), the earliest retry comes due, or `poll_s` passed (another replica's rows, a lease that ran
out). On stop the calls in flight record their answers (up to `stop_grace_s`); the rest are cancelled and
taken again when their lease runs out.

A worker subclasses ClaimLoop with `take(limit)` (claim rows; one coroutine per row, which makes the call and
records the answer) and `next_due()` (when the earliest row comes due), and optionally `starting()`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from omni_contracts import utcnow


class Signal:
    """The in-process wake-up of a worker (and of anything waiting for it)."""

    def __init__(self) -> None:
        self.event = asyncio.Event()

    def wake(self) -> None:
        self.event.set()


@dataclass(frozen=True)
class Backoff:
    first_s: float = 0.5
    max_s: float = 60.0


@dataclass
class WorkerSettings:
    concurrency: int = 16
    lease_s: float = 60.0
    poll_s: float = 2.0
    stop_grace_s: float = 5.0
    backoff: Backoff = field(default_factory=Backoff)


Job = tuple[str, Coroutine[Any, Any, None]]  # a task name and the call that handles one claimed row


class ClaimLoop:
    def __init__(
        self,
        new_uow: Callable[[], Any],
        signal: Signal,
        settings: WorkerSettings | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.new_uow = new_uow
        self.signal = signal
        self.settings = settings or WorkerSettings()
        self.clock = clock
        self.inflight: set[asyncio.Task[None]] = set()

    # -- what a worker gives --------------------------------------------------------------------------------
    async def starting(self) -> None:
        """Once, before the loop (e.g. release rows that waited for something this process now serves)."""

    async def take(self, limit: int) -> list[Job]:
        raise NotImplementedError

    async def next_due(self) -> datetime | None:
        raise NotImplementedError

    # -- the loop -------------------------------------------------------------------------------------------
    async def run(self) -> None:
        await self.starting()
        try:
            await self._loop()
        except asyncio.CancelledError:  # stopping: the calls in flight record their answers (bounded)
            if self.inflight:
                await asyncio.wait(set(self.inflight), timeout=self.settings.stop_grace_s)
                for task in list(self.inflight):
                    task.cancel()  # its lease runs out; the next process (or replica) takes it again
            raise

    async def _loop(self) -> None:
        while True:
            self.signal.event.clear()
            free = self.settings.concurrency - len(self.inflight)
            claimed = 0
            if free > 0:
                claimed = await self.claim(free)
            if claimed and claimed == free:
                timeout = self.settings.poll_s  # full: go on when a slot frees up (or a wake)
            else:
                timeout = await self._idle_timeout()
            await self._wait(timeout)

    async def claim(self, limit: int) -> int:
        jobs = await self.take(limit)
        for name, job in jobs:
            task = asyncio.create_task(job, name=name)
            self.inflight.add(task)
            task.add_done_callback(self.inflight.discard)
        return len(jobs)

    async def drain(self) -> None:
        """Until every call in flight has been recorded (tests; shutdown)."""
        while self.inflight:
            await asyncio.gather(*list(self.inflight), return_exceptions=True)

    async def _idle_timeout(self) -> float:
        due = await self.next_due()
        if due is None:
            return self.settings.poll_s
        return min(max((due - self.clock()).total_seconds(), 0.005), self.settings.poll_s)

    async def _wait(self, timeout: float) -> None:
        waiter = asyncio.create_task(self.signal.event.wait())
        try:
            await asyncio.wait({waiter, *self.inflight}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()  # never awaited here: a cancellation of the worker itself must go through
