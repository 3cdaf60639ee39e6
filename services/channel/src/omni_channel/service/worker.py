"""The push worker: a supervised loop that claims due listings and pushes them to their platforms.

- Claims are short transactions (`FOR UPDATE SKIP LOCKED` plus a lease), so replicas share the work and no
  transaction stays open across a platform call; a listing is claimed by one worker at a time, so at most
  one push per listing is in flight, while up to `concurrency` listings are pushed side by side.
- It wakes in-process the moment a use case makes something due (`PushSignal.wake`, called after the
  commit), otherwise when the earliest retry comes due, and at least every `poll_s` (another replica's
  listings, a lease that ran out).
- Kafka is not involved: a platform outage slows nothing but the pushes. Everything is in the table, so a
  restart carries on where it stopped (a push in flight when a process died is taken again when its
  lease ends).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from omni_chassis.logging import get_logger
from omni_contracts import utcnow

from .. import push_metrics as metrics
from ..domain.push_status import Claim, State
from ..platforms import StockPlatform
from ..store import ShopCredentials
from . import push

log = get_logger(__name__)


class PushSignal:
    """The in-process wake-up of the push worker (and of anything waiting for it)."""

    def __init__(self) -> None:
        self.event = asyncio.Event()

    def wake(self) -> None:
        self.event.set()


@dataclass
class WorkerSettings:
    concurrency: int = 16
    lease_s: float = 60.0
    poll_s: float = 2.0
    stop_grace_s: float = 5.0
    backoff: push.Backoff = field(default_factory=push.Backoff)


class PushWorker:
    def __init__(
        self,
        new_uow: Callable[[], Any],
        platforms: Mapping[str, StockPlatform],
        signal: PushSignal,
        settings: WorkerSettings | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.new_uow = new_uow
        self.platforms = platforms
        self.signal = signal
        self.settings = settings or WorkerSettings()
        self.clock = clock
        self.inflight: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        released = await push.release_unsupported(self.new_uow(), sorted(self.platforms), self.clock())
        if released:
            log.info("stock push: listings of newly served channels are due", listings=released)
        try:
            await self._loop()
        except asyncio.CancelledError:  # stopping: the pushes in flight record their answers (bounded)
            if self.inflight:
                await asyncio.wait(set(self.inflight), timeout=self.settings.stop_grace_s)
                for task in list(self.inflight):
                    task.cancel()  # its lease runs out; the next process (or replica) pushes it again
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
        s = self.settings
        claims = await push.claim_pushes(self.new_uow(), now=self.clock(), limit=limit, lease_s=s.lease_s)
        for claim, shop in claims:
            task = asyncio.create_task(self._push(claim, shop), name=f"push:{claim.listing.listing_id}")
            self.inflight.add(task)
            task.add_done_callback(self.inflight.discard)
        return len(claims)

    async def drain(self) -> None:
        """Until every push in flight has been recorded (tests; shutdown)."""
        while self.inflight:
            await asyncio.gather(*list(self.inflight), return_exceptions=True)

    async def _idle_timeout(self) -> float:
        due = await push.next_due_at(self.new_uow())
        if due is None:
            return self.settings.poll_s
        return min(max((due - self.clock()).total_seconds(), 0.005), self.settings.poll_s)

    async def _wait(self, timeout: float) -> None:
        waiter = asyncio.create_task(self.signal.event.wait())
        try:
            await asyncio.wait({waiter, *self.inflight}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()  # never awaited here: a cancellation of the worker itself must go through

    async def _push(self, claim: Claim, shop: ShopCredentials | None) -> None:
        listing = claim.listing
        started = self.clock()
        platform = self.platforms.get(listing.channel)
        answer = push.local_answer(claim, shop) if platform is not None else None
        blocks_shop = answer is None  # a shop already refused, missing or inactive is not refused again
        try:
            if platform is not None and answer is None:
                t0 = time.perf_counter()
                answer = await platform.push(listing, claim.quantity, shop, started)
                metrics.PUSH_CALL_SECONDS.labels(listing.channel).observe(time.perf_counter() - t0)
            now = self.clock()
            t = await push.finish_push(
                self.new_uow(),
                claim,
                answer,
                started_at=started,
                now=now,
                backoff=self.settings.backoff,
                blocks_shop=blocks_shop,
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the database: the lease runs out and the push is taken again
            log.warning("stock push not recorded", listing_id=listing.listing_id, error=type(exc).__name__)
            return
        if t is None:
            return
        outcome = answer.outcome.value if answer is not None else "unsupported"
        metrics.PUSHES.labels(listing.channel, outcome).inc()
        if t.acknowledged:
            metrics.PUSH_LATENCY.labels(listing.channel).observe(
                max((now - claim.computed_at).total_seconds(), 0.0)
            )
        if t.state is State.PENDING:  # a newer number came in meanwhile: out it goes
            self.signal.wake()
