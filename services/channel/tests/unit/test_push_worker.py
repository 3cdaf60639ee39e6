"""The push worker's loop on FakeUnitOfWork(FakeRepository()): replicas share the work, bounded, one push
per listing at a time; a stop lets pushes in flight finish; shops that cannot be used get no call."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest
from push_helpers import SlowPlatform, consume, cycle, event

from omni_channel import service
from omni_channel.domain.push_status import Listing
from omni_channel.domain.stock_push import Answer, Outcome
from omni_channel.service.worker import PushSignal, PushWorker, WorkerSettings
from omni_chassis.testing import eventually
from omni_contracts import utcnow


async def test_two_running_workers_share_the_pushes_bounded_and_one_per_listing(new_uow, repo, shop):
    platform = SlowPlatform()
    signal = PushSignal()
    workers = [
        PushWorker(new_uow, {"tmall": platform}, signal, WorkerSettings(concurrency=4, poll_s=0.05))
        for _ in range(2)
    ]
    tasks = [asyncio.create_task(w.run()) for w in workers]
    try:
        for i in range(40):
            await service.on_listing_stock(new_uow(), [event(f"L{i:02}", i)], now=utcnow(), wake=signal.wake)

        async def done() -> bool:
            return all(r["state"] == "acknowledged" for r in repo.status.values())

        await eventually(done, timeout=10, interval=0.01)
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    assert sorted(platform.calls) == [(f"L{i:02}", i) for i in range(40)]  # each pushed once
    assert platform.most <= 8 and platform.most_per_listing == 1


async def test_a_stopping_worker_lets_the_push_in_flight_record_its_answer(new_uow, repo, shop):
    platform = SlowPlatform()
    worker = PushWorker(new_uow, {"tmall": platform}, PushSignal(), WorkerSettings(poll_s=0.05))
    await service.on_listing_stock(new_uow(), [event("L1", 3)], now=utcnow(), wake=None)
    task = asyncio.create_task(worker.run())
    await eventually(lambda: _started(platform), timeout=5, interval=0.001)
    task.cancel()  # while the push is in flight
    with pytest.raises(asyncio.CancelledError):
        await task
    assert (repo.status["L1"]["state"], repo.status["L1"]["pushed_qty"]) == ("acknowledged", 3)


async def _started(platform: SlowPlatform) -> bool:
    return sum(platform.inflight.values()) > 0


async def test_an_inactive_shop_or_one_without_a_session_key_waits_without_a_call(
    new_uow, repo, worker, clock
):
    from omni_channel.platforms.taobao import TaobaoPlatform

    await service.put_shop(
        new_uow(),
        channel="tmall",
        shop_id="OFF",
        name="S",
        app_key="a",
        secret="s3cret-key",
        active=False,
        session_key="t",
    )
    await consume(new_uow, event("L1", 4, shop_id="OFF"), clock=clock)
    await cycle(worker)
    assert (repo.status["L1"]["state"], repo.status["L1"]["last_error"]) == (
        "credentials",
        "the tmall shop 'OFF' is not active",
    )

    class NoCalls:
        async def set_quantity(self, *a: Any) -> Answer:
            raise AssertionError("no call without a session key")

    taobao = TaobaoPlatform(NoCalls())  # type: ignore[arg-type]
    shop = (await repo.shops_credentials([("tmall", "OFF")]))[("tmall", "OFF")]
    answer = await taobao.push(Listing("L", "tmall", "OFF", "7"), 1, replace(shop, session_key=None), clock())
    assert answer.outcome is Outcome.CREDENTIALS and "session_key" in answer.reason
    refused = await taobao.push(Listing("L", "tmall", "OFF", "not-a-number"), 1, shop, clock())
    assert refused.outcome is Outcome.REFUSED
