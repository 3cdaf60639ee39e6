"""The push worker: a supervised loop that claims due listings and pushes them to their platforms (the loop
itself is claim_loop.ClaimLoop, shared with the shipment write-back).

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
from datetime import datetime
from typing import Any

from omni_chassis.logging import get_logger
from omni_contracts import utcnow

from .. import push_metrics as metrics
from ..domain.push_status import Claim, State
from ..platforms import StockPlatform
from ..store import ShopCredentials
from . import push
from .claim_loop import ClaimLoop, Job, Signal, WorkerSettings

__all__ = ["PushSignal", "PushWorker", "WorkerSettings"]

log = get_logger(__name__)


PushSignal = Signal  # the push worker's wake-up (claim_loop.Signal)


class PushWorker(ClaimLoop):
    def __init__(
        self,
        new_uow: Callable[[], Any],
        platforms: Mapping[str, StockPlatform],
        signal: PushSignal,
        settings: WorkerSettings | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        super().__init__(new_uow, signal, settings, clock)
        self.platforms = platforms

    async def starting(self) -> None:
        released = await push.release_unsupported(self.new_uow(), sorted(self.platforms), self.clock())
        if released:
            log.info("stock push: listings of newly served channels are due", listings=released)

    async def take(self, limit: int) -> list[Job]:
        s = self.settings
        claims = await push.claim_pushes(self.new_uow(), now=self.clock(), limit=limit, lease_s=s.lease_s)
        return [(f"push:{claim.listing.listing_id}", self._push(claim, shop)) for claim, shop in claims]

    async def next_due(self) -> datetime | None:
        return await push.next_due_at(self.new_uow())

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
