"""Reading a projection's topics for a replay (used by `omni_chassis.replay`): every partition from the
beginning, without a consumer group, merged across partitions by `occurred_at`, each partition's order
kept."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from omni_contracts import REGISTRY, DecodeError, Envelope, EventRegistry, headers_to_dict

from .failures import describe
from .replay_compare import TableDiff


@dataclass
class Skipped:
    topic: str
    partition: int
    offset: int
    event_type: str
    error: str


@dataclass
class ReplayReport:
    projection: str
    events: int = 0  # applied
    duplicates: int = 0
    discarded_events: int = 0  # what the handlers emitted while replaying (never published)
    skipped_count: int = 0
    skipped: list[Skipped] = field(default_factory=list)  # the first 100
    end_offsets: dict[str, int] = field(default_factory=dict)  # "topic[partition]" -> offset replayed to
    delta_events: int = 0  # applied under the lock, before the swap
    tables: list[TableDiff] = field(default_factory=list)
    swapped: bool = False
    old_schema: str | None = None
    lock_ms: float | None = None
    seconds: float = 0.0

    @property
    def identical(self) -> bool:
        return all(t.identical for t in self.tables)


@dataclass
class Record:
    key: tuple[Any, ...]
    tp: TopicPartition
    offset: int
    env: Envelope[Any]


class EventReader:
    """Every partition of some topics from the beginning, without a consumer group, in `occurred_at` order."""

    def __init__(
        self, bootstrap: str, topics: Sequence[str], event_types: frozenset[str], report: ReplayReport,
        registry: EventRegistry = REGISTRY, stall_s: float = 60.0,
    ) -> None:  # fmt: skip
        self.topics, self.event_types, self.report, self.registry = (
            list(topics),
            event_types,
            report,
            registry,
        )
        self.stall_s = stall_s
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
            auto_offset_reset="earliest", client_id="omni-replay",
        )  # fmt: skip
        # end offsets from a client that fetches nothing: the reader's ListOffsets would queue behind its
        # fetch long-poll (up to 500 ms, measured ~400 ms) while the swap holds the live tables locked
        self.offsets = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, group_id=None, client_id="omni-replay-ends"
        )
        self.tps: list[TopicPartition] = []
        self.buffer: dict[TopicPartition, deque[Record]] = {}

    async def start(self) -> None:
        await self.consumer.start()
        await self.offsets.start()
        existing = await self.consumer.topics()
        missing = [t for t in self.topics if t not in existing]
        if missing:
            raise LookupError(f"no such topic(s) on the broker: {', '.join(missing)}")
        # the consumer's cluster view holds only subscribed topics: load the whole metadata once
        await self.consumer._client.force_metadata_update()
        for t in self.topics:
            parts = self.consumer.partitions_for_topic(t)
            if not parts:
                raise LookupError(f"topic {t}: no partitions known to the broker")
            self.tps += [TopicPartition(t, p) for p in sorted(parts)]
        self.consumer.assign(self.tps)
        await self.consumer.seek_to_beginning(*self.tps)
        self.buffer = {tp: deque() for tp in self.tps}

    async def stop(self) -> None:
        await self.offsets.stop()
        await self.consumer.stop()

    async def end_offsets(self) -> dict[TopicPartition, int]:
        ends = await self.offsets.end_offsets(self.tps)
        for tp, e in ends.items():
            self.report.end_offsets[f"{tp.topic}[{tp.partition}]"] = e
        return ends

    def _take(self, tp: TopicPartition, records: list[Any]) -> None:
        for r in records:
            etype = headers_to_dict(r.headers).get("event_type")
            if etype is not None and etype not in self.event_types:
                continue
            try:
                env = self.registry.decode(r.value, r.headers)
            except DecodeError as exc:
                self.report.skipped_count += 1
                if len(self.report.skipped) < 100:
                    self.report.skipped.append(
                        Skipped(tp.topic, tp.partition, r.offset, etype or "?", describe(exc, 300))
                    )
                continue
            if env.event_type in self.event_types:
                key = (env.occurred_at, tp.topic, tp.partition, r.offset)
                self.buffer[tp].append(Record(key, tp, r.offset, env))

    async def batches(self, ends: dict[TopicPartition, int], size: int) -> Any:
        """Batches of records below `ends`, merged across partitions; later ones stay buffered."""

        def head_ok(tp: TopicPartition) -> bool:
            return bool(self.buffer[tp]) and self.buffer[tp][0].offset < ends[tp]

        batch: list[Record] = []
        while True:
            waiting = [tp for tp in self.tps if not head_ok(tp) and not self.buffer[tp]]
            stalled_since = time.monotonic()
            while waiting:
                waiting = [tp for tp in waiting if await self.consumer.position(tp) < ends[tp]]
                if not waiting:
                    break
                fetched = await self.consumer.getmany(*waiting, timeout_ms=500, max_records=size)
                for tp, records in fetched.items():
                    self._take(tp, records)
                if fetched:
                    stalled_since = time.monotonic()
                elif time.monotonic() - stalled_since > self.stall_s:
                    raise TimeoutError(
                        f"no records from Kafka for {self.stall_s:.0f}s while reading {waiting}"
                    )
                waiting = [tp for tp in waiting if not self.buffer[tp]]
            ready = [tp for tp in self.tps if head_ok(tp)]
            if not ready:
                break
            tp = min(ready, key=lambda p: self.buffer[p][0].key)
            batch.append(self.buffer[tp].popleft())
            if len(batch) >= size:
                yield batch
                batch = []
        if batch:
            yield batch
