"""A chaos run's orders: signed Tmall webhooks through the gateway, resent until accepted; and duplicates.

Duplicates, as a platform and a broker really produce them:
- a webhook sent again (the platform retries a push it thinks failed): the same trade, signed anew;
- a `channel.order.received` record produced again, byte for byte with its headers (same event id), as a
  producer retry after a lost ack does.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx

from ..tmall import signed_request

RETRY_STATUSES = {429, 500, 502, 503, 504}


@dataclass
class Sent:
    accepted: list[str] = field(default_factory=list)  # tids, in order of acceptance
    refused: Counter = field(default_factory=Counter)  # why an order was never accepted
    retries: Counter = field(default_factory=Counter)  # why a request was sent again
    webhook_duplicates: int = 0
    kafka_duplicates: int = 0
    started: int = 0
    seconds: float = 0.0


def tid_of(doc: dict) -> str:
    return doc["trade_fullinfo_get_response"]["trade"]["tid_str"]


async def send(client: httpx.AsyncClient, doc: dict, out: Sent, give_up_after: float) -> bool:
    """POST the signed trade until it is accepted; transport errors and 5xx are retried (it is idempotent)."""
    deadline, attempt = time.monotonic() + give_up_after, 0
    while True:
        params, body = signed_request(doc)
        try:
            r = await client.post(
                "/channels/tmall/orders",
                params=params,
                content=body,
                headers={"content-type": "application/json"},
            )
        except httpx.TransportError as exc:
            why = type(exc).__name__
        else:
            if r.status_code == 202 and r.json().get("accepted"):
                return True
            why = f"{r.status_code} {r.text[:120]}"
            if r.status_code not in RETRY_STATUSES:
                out.refused[why] += 1
                return False
        if time.monotonic() > deadline:
            out.refused[f"still failing after {give_up_after:.0f}s: {why}"] += 1
            return False
        out.retries[why] += 1
        attempt += 1
        await asyncio.sleep(min(0.2 * 2**attempt, 3.0))


async def push(
    gateway: str,
    api_key: str,
    docs: list[dict],
    webhook_dups: set[str],
    concurrency: int = 32,
    give_up_after: float = 300,
    rate: float = 0,
) -> tuple[Sent, asyncio.Task]:
    """Start sending at `rate` orders/s (0: as fast as possible); returns at once: the Sent record fills in
    while the task runs."""
    from ..bench import Pacer

    out = Sent()
    pacer = Pacer(rate)
    todo = iter(docs)
    limits = httpx.Limits(max_connections=concurrency + 4, max_keepalive_connections=concurrency + 4)

    async def run() -> None:
        async with httpx.AsyncClient(
            base_url=gateway,
            headers={"X-API-Key": api_key},
            timeout=httpx.Timeout(30, connect=5),
            limits=limits,
        ) as client:

            async def worker() -> None:
                for doc in todo:
                    await pacer.wait()
                    out.started += 1
                    tid = tid_of(doc)
                    if await send(client, doc, out, give_up_after):
                        out.accepted.append(tid)
                        if tid in webhook_dups and await send(client, doc, out, give_up_after):
                            out.webhook_duplicates += 1

            t0 = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            out.seconds = time.perf_counter() - t0

    return out, asyncio.create_task(run())


async def reproduce(
    bootstrap: str, topic: str, start: dict[int, int], keys: set[bytes], timeout: float
) -> int:
    """Produce again, verbatim (value, key, headers), the records of `topic` after `start` whose key is in
    `keys`; returns how many. Reads until every key was seen once or `timeout`."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    from omni_chassis.kafka import make_producer

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    producer = make_producer(bootstrap, "omni-chaos-dup")
    await consumer.start()
    await producer.start()
    seen: set[bytes] = set()
    try:
        cluster = await consumer._client.fetch_all_metadata()  # partitions of a topic not subscribed to
        tps = [TopicPartition(topic, p) for p in sorted(cluster.partitions_for_topic(topic) or [])]
        if not tps:
            raise RuntimeError(f"no partitions known for {topic}")
        consumer.assign(tps)
        for tp in tps:
            consumer.seek(tp, start.get(tp.partition, 0))
        deadline = time.monotonic() + timeout
        pending = []
        while seen != keys and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500, max_records=2000)
            for records in batch.values():
                for rec in records:
                    if rec.key in keys and rec.key not in seen:
                        seen.add(rec.key)
                        pending.append(
                            await producer.send(topic, rec.value, key=rec.key, headers=list(rec.headers))
                        )
        await asyncio.gather(*pending)
    finally:
        await consumer.stop()
        await producer.stop()
    return len(seen)
