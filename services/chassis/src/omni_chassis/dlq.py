"""Dead letters: the original bytes and headers, plus x-dlq-* headers saying what failed, where and why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from omni_contracts import dlq_topic, headers_to_dict

from . import metrics
from .logging import get_logger

log = get_logger("omni.dlq")

H_ERROR = "x-dlq-error"
H_ERROR_TYPE = "x-dlq-error-type"
H_CONSUMER = "x-dlq-consumer"
H_TOPIC = "x-dlq-topic"
H_PARTITION = "x-dlq-partition"
H_OFFSET = "x-dlq-offset"
H_ATTEMPTS = "x-dlq-attempts"
H_FAILED_AT = "x-dlq-failed-at"
H_REPLAYED_FROM = "x-dlq-replayed-from"


class DeadLetters:
    def __init__(self, producer: AIOKafkaProducer) -> None:
        self.producer = producer

    async def send(self, consumer: str, record: Any, error: BaseException | str, attempts: int) -> None:
        """Publish `record` (a ConsumerRecord) to the consumer's DLQ and wait for the broker's ack."""
        message = str(error) if isinstance(error, str) else f"{type(error).__name__}: {error}"
        headers = [(k, v) for k, v in (record.headers or []) if not k.startswith("x-dlq-")]
        headers += [
            (H_ERROR, message[:8000].encode()),
            (H_ERROR_TYPE, (type(error).__name__ if not isinstance(error, str) else "Error").encode()),
            (H_CONSUMER, consumer.encode()),
            (H_TOPIC, record.topic.encode()),
            (H_PARTITION, str(record.partition).encode()),
            (H_OFFSET, str(record.offset).encode()),
            (H_ATTEMPTS, str(attempts).encode()),
            (H_FAILED_AT, datetime.now(UTC).isoformat().encode()),
        ]
        fut = await self.producer.send(
            dlq_topic(consumer), value=record.value, key=record.key, headers=headers
        )
        await fut
        metrics.DLQ_MESSAGES.labels(consumer).inc()
        log.error(
            "message dead-lettered",
            consumer=consumer,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            attempts=attempts,
            error=message[:500],
        )


@dataclass
class DeadLetter:
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]

    @property
    def info(self) -> dict[str, str]:
        return headers_to_dict(self.headers)


async def read_all(bootstrap: str, consumer_group: str, timeout_s: float = 10) -> list[DeadLetter]:
    """Every message currently on a consumer group's DLQ topic, oldest first per partition."""
    topic = dlq_topic(consumer_group)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        parts = consumer.partitions_for_topic(topic) or set()
        if not parts:
            await consumer._client.force_metadata_update()
            parts = consumer.partitions_for_topic(topic) or set()
        if not parts:
            return []
        tps = [TopicPartition(topic, p) for p in sorted(parts)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        end = await consumer.end_offsets(tps)
        out: list[DeadLetter] = []
        remaining = {tp for tp in tps if end[tp] > 0}
        while remaining:
            batch = await consumer.getmany(*remaining, timeout_ms=int(timeout_s * 1000))
            if not batch:
                break
            for tp, records in batch.items():
                for r in records:
                    out.append(DeadLetter(r.partition, r.offset, r.key, r.value, list(r.headers or [])))
                if await consumer.position(tp) >= end[tp]:
                    remaining.discard(tp)
        return sorted(out, key=lambda d: (d.partition, d.offset))
    finally:
        await consumer.stop()


async def replay(bootstrap: str, producer: AIOKafkaProducer, letter: DeadLetter, consumer_group: str) -> str:
    """Publish a dead letter again to the topic it came from, with its original headers. Returns the topic.

    Every consumer group of that topic sees it again; those that handled it already skip it (inbox).
    """
    info = letter.info
    topic = info.get(H_TOPIC)
    if not topic:
        raise ValueError(f"dead letter {letter.partition}:{letter.offset} has no {H_TOPIC} header")
    headers = [(k, v) for k, v in letter.headers if not k.startswith("x-dlq-")]
    headers.append(
        (H_REPLAYED_FROM, f"{dlq_topic(consumer_group)}:{letter.partition}:{letter.offset}".encode())
    )
    await (await producer.send(topic, value=letter.value, key=letter.key, headers=headers))
    return topic


def replay_group(consumer_group: str) -> str:
    """The Kafka consumer group that remembers how far a DLQ has been replayed."""
    return f"omni.dlq-replay.{consumer_group}"


async def replayed_upto(bootstrap: str, consumer_group: str) -> dict[int, int]:
    """Per DLQ partition, the offset below which every dead letter has been replayed."""
    topic = dlq_topic(consumer_group)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=replay_group(consumer_group), enable_auto_commit=False
    )
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        out = {}
        for p in consumer.partitions_for_topic(topic) or set():
            committed = await consumer.committed(TopicPartition(topic, p))
            out[p] = committed or 0
        return out
    finally:
        await consumer.stop()


async def replay_pending(
    bootstrap: str,
    producer: AIOKafkaProducer,
    consumer_group: str,
    only: set[tuple[int, int]] | None = None,
) -> list[tuple[DeadLetter, str]]:
    """Replay the dead letters not replayed yet (or exactly `only`, as (partition, offset)), and remember."""
    letters = await read_all(bootstrap, consumer_group)
    done = await replayed_upto(bootstrap, consumer_group)
    chosen = (
        [d for d in letters if (d.partition, d.offset) in only]
        if only is not None
        else [d for d in letters if d.offset >= done.get(d.partition, 0)]
    )
    missing = (only or set()) - {(d.partition, d.offset) for d in letters}
    if missing:
        raise LookupError(f"no dead letter at {sorted(missing)} on {dlq_topic(consumer_group)}")
    out = [(d, await replay(bootstrap, producer, d, consumer_group)) for d in chosen]
    if only is None and chosen:
        topic = dlq_topic(consumer_group)
        consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, group_id=replay_group(consumer_group), enable_auto_commit=False
        )
        await consumer.start()
        try:
            last: dict[int, int] = {}
            for d in chosen:
                last[d.partition] = max(last.get(d.partition, 0), d.offset + 1)
            offsets = {TopicPartition(topic, p): o for p, o in last.items()}
            consumer.assign(list(offsets))
            await consumer.commit(offsets)
        finally:
            await consumer.stop()
    return out
