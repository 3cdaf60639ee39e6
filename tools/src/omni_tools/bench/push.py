"""Sending pre-built load: signed webhooks over aiohttp (one sized connection pool, no per-request building)
and records straight onto Kafka. Both report what was accepted and the load generator's own CPU."""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

import aiohttp
import orjson
from rich.console import Console

from .orders import Pacer, Record, Request
from .procs import Clock, own_cpu

console = Console()
RETRY_STATUS = (429, 502, 503, 504)
JSON = {"Content-Type": "application/json"}


@dataclass
class Push:
    tids: list[str] = field(default_factory=list)  # accepted by the webhook (or published)
    latencies_ms: list[float] = field(default_factory=list)  # the webhook's answer, client side
    refused: Counter = field(default_factory=Counter)
    retries: Counter = field(default_factory=Counter)  # why a request was sent again
    seconds: float = 0.0
    started_at: datetime | None = None  # wall clock (UTC) of the first send
    sent: int = 0  # requests taken from the pool
    pool: int = 0  # requests built
    limit_s: float | None = None  # the phase's length asked for (None: until the pool is used up)
    clock: Clock = field(default_factory=Clock)  # the load generator's own CPU while sending

    @property
    def exhausted(self) -> bool:
        """Every pre-built request was taken (a timed phase ended by running out, not by the clock)."""
        return self.sent >= self.pool


async def _ticker(push: Push, what: str, every: float = 5.0) -> None:
    t0 = time.perf_counter()
    while True:
        await asyncio.sleep(every)
        console.print(f"  {what}: {len(push.tids):,} accepted after {time.perf_counter() - t0:,.0f} s")


async def push_webhook(
    reqs: list[Request], concurrency: int, seconds: float | None = None, rate: float = 0
) -> Push:
    """Send until the pool is used up or `seconds` have passed, `concurrency` in flight, paced at `rate`
    per second (0: as fast as the gateway answers). The webhook is idempotent per tid: a 429/5xx or a
    transport error is sent again (at most 6 times)."""
    out, todo = Push(pool=len(reqs), limit_s=seconds), iter(reqs)
    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=concurrency, ttl_dns_cache=None)
    timeout = aiohttp.ClientTimeout(total=30, connect=5)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def send(req: Request) -> None:
            for attempt in range(6):
                t0 = time.perf_counter()
                try:
                    async with session.post(req.url, data=req.body, headers=JSON) as r:
                        status, body = r.status, await r.read()
                except (aiohttp.ClientError, TimeoutError) as exc:
                    why = type(exc).__name__
                else:
                    if status == 202 and orjson.loads(body).get("accepted"):
                        out.latencies_ms.append((time.perf_counter() - t0) * 1000)
                        out.tids.append(req.tid)
                        return
                    why = f"{status} {body[:160].decode(errors='replace')}"
                    if status not in RETRY_STATUS:
                        break
                out.retries[why] += 1
                await asyncio.sleep(min(0.1 * 2**attempt, 2))
            out.refused[why] += 1

        pacer = Pacer(rate)
        deadline = time.perf_counter() + seconds if seconds else float("inf")

        async def worker() -> None:
            for req in todo:  # one shared iterator: every request is sent once
                out.sent += 1
                await pacer.wait()
                await send(req)
                if time.perf_counter() >= deadline:
                    return

        ticker = asyncio.create_task(_ticker(out, "webhook"))
        try:
            with own_cpu() as out.clock:
                out.started_at = datetime.now(UTC)
                await asyncio.gather(*(worker() for _ in range(concurrency)))
        finally:
            ticker.cancel()
    out.seconds = out.clock.wall
    return out


async def publish(records: list[Record], topic: str, bootstrap: str) -> Push:
    """Put every record on `topic` at once (the producer batches; acks=all, idempotent)."""
    from omni_chassis.kafka import make_producer

    topic = os.environ.get("OMNI_TOPIC_PREFIX", "") + topic
    out = Push(pool=len(records))
    producer = make_producer(bootstrap, "omni-bench", linger_ms=5)
    await producer.start()
    try:
        with own_cpu() as out.clock:
            out.started_at = datetime.now(UTC)
            pending = []
            for rec in records:
                pending.append(await producer.send(topic, rec.value, key=rec.key, headers=rec.headers))
                if len(pending) >= 1000:
                    await asyncio.gather(*pending)
                    pending.clear()
            await asyncio.gather(*pending)
    finally:
        await producer.stop()
    out.tids = [r.tid for r in records]
    out.sent, out.seconds = len(records), out.clock.wall
    return out
