"""Kafka clients with Omni's defaults: idempotent producers with acks=all, brokers for subscribers."""

from __future__ import annotations

import os

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from faststream.kafka import KafkaBroker

from omni_contracts import TOPICS


def make_producer(bootstrap: str, client_id: str, linger_ms: int = 1) -> AIOKafkaProducer:
    """Idempotent (no duplicates from retries, per-partition order kept), acks=all."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        linger_ms=linger_ms,
        max_batch_size=256 * 1024,
        request_timeout_ms=30000,
    )


def make_broker(bootstrap: str, client_id: str) -> KafkaBroker:
    return KafkaBroker(
        bootstrap,
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        allow_auto_create_topics=False,
        logger=None,
        graceful_timeout=10.0,
    )


async def create_topics(
    bootstrap: str,
    names: list[str] | None = None,
    partitions: int | None = None,
    replication: int | None = None,
) -> list[str]:
    """Create topics that do not exist yet (every registry topic when `names` is None). Returns the new ones.

    Registry topics get the deployment's `OMNI_TOPIC_PREFIX`; explicit `names` are taken as they are.

    Replication comes from `KAFKA_REPLICATION_FACTOR` (1 on a single broker; 3 on a real cluster).
    """
    replication = replication or int(os.environ.get("KAFKA_REPLICATION_FACTOR", "1"))
    prefix = os.environ.get("OMNI_TOPIC_PREFIX", "")
    specs = (
        [(prefix + s.name, s.partitions) for s in TOPICS.values()]
        if names is None
        else [(n, partitions or 6) for n in names]
    )
    wanted = dict(specs)  # a name asked for twice is created once (Kafka refuses a duplicate in one request)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="omni-admin")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        new = [NewTopic(n, p, replication) for n, p in wanted.items() if n not in existing]
        if not new:
            return []
        try:
            response = await admin.create_topics(new)
        except TopicAlreadyExistsError:
            return []
        failed = [
            f"{name}: error {code}{f' ({msg})' if msg else ''}"
            for name, code, *rest in response.topic_errors
            for msg in [rest[0] if rest else None]
            if code not in (0, TopicAlreadyExistsError.errno)
        ]
        if failed:
            raise RuntimeError("Kafka refused to create topics: " + "; ".join(failed))
        return [t.name for t in new]
    finally:
        await admin.close()
