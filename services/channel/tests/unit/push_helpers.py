"""What the stock push's unit tests share: a clock, in-memory platforms, events and driving the worker."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from omni_channel import service
from omni_channel.domain.push_status import Listing
from omni_channel.domain.stock_push import Answer, Outcome
from omni_channel.service.worker import PushWorker
from omni_contracts import make_envelope
from omni_contracts.events.inventory import ListingStockChangedV1

T0 = datetime(2026, 12, 3, 4, 0, tzinfo=UTC)
ACK = Answer(Outcome.ACKNOWLEDGED, "acknowledged")


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class FakePlatform:
    """Answers pushes from a script (then acknowledges), shows what it was set to, can run a hook mid-call."""

    def __init__(self) -> None:
        self.script: list[Answer] = []
        self.calls: list[tuple[str, int]] = []
        self.shown: dict[str, int] = {}
        self.during: Callable[[], Any] | None = None

    async def push(self, listing: Listing, quantity: int, shop: Any, now: datetime) -> Answer:
        self.calls.append((listing.listing_id, quantity))
        if self.during is not None:
            hook, self.during = self.during, None
            await hook()
        answer = self.script.pop(0) if self.script else ACK
        if answer.outcome is Outcome.ACKNOWLEDGED:
            self.shown[listing.listing_id] = quantity
        return answer

    async def read(self, listings: list[Listing], shop: Any, now: datetime) -> dict[str, int | Answer]:
        return {x.listing_id: self.shown[x.listing_id] for x in listings if x.listing_id in self.shown}


def event(listing_id: str = "L1", quantity: int = 5, seq: int = 1, channel: str = "tmall", **kw: Any) -> Any:
    data = ListingStockChangedV1(
        listing_id=listing_id,
        channel=channel,
        shop_id=kw.get("shop_id", "TM-1"),
        channel_item_id="2002",
        channel_sku_id=kw.get("sku", "31"),
        quantity=quantity,
        previous=None,
        seq=seq,
        rules_version=1,
        computed_at=T0,
    )
    return make_envelope(data, producer="inventory", key=listing_id)


async def consume(new_uow, *envs: Any, clock: Clock, wake: Callable[[], None] | None = None) -> int:
    return await service.on_listing_stock(new_uow(), list(envs), now=clock(), wake=wake)


async def cycle(worker: PushWorker) -> int:
    n = await worker.claim(worker.settings.concurrency)
    await worker.drain()
    return n


class SlowPlatform(FakePlatform):
    """Counts pushes in flight, overall and per listing."""

    def __init__(self) -> None:
        super().__init__()
        self.inflight: dict[str, int] = {}
        self.most = 0
        self.most_per_listing = 0

    async def push(self, listing: Listing, quantity: int, shop: Any, now: datetime) -> Answer:
        self.inflight[listing.listing_id] = self.inflight.get(listing.listing_id, 0) + 1
        self.most = max(self.most, sum(self.inflight.values()))
        self.most_per_listing = max(self.most_per_listing, self.inflight[listing.listing_id])
        await asyncio.sleep(0.005)
        self.inflight[listing.listing_id] -= 1
        return await super().push(listing, quantity, shop, now)
