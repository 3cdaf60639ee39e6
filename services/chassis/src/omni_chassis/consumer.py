"""Kafka consumers with the reliability rules built in.

- Offsets are committed only after the handler's DB transaction has committed (AckPolicy.NACK_ON_ERROR:
  ack after success; on an unexpected error the offset is not committed and the message comes again).
- Every message goes through the inbox in the handler's transaction: a redelivery changes nothing.
- Handlers run inside the chassis unit of work (`uow`, see uow.py): the inbox claim, the handler's writes,
  the events it stages and the events it parks commit together.
- Failures are classified (failures.py). A transient one (database or broker restarting, deadlock, timeout)
  is retried with capped backoff for as long as it lasts and the consumer reports itself degraded; an event
  waiting for a fact (`WaitingFor`, `uow.park`) is parked (parking.py); anything else is retried
  `max_attempts` times, then dead-lettered, and the consumer moves on. An undecodable message is
  dead-lettered at once.
- Batch consumers handle a whole poll in one transaction; if it fails with anything but a transient error,
  each message of the batch is retried alone so one poison message cannot hold back the others.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

import structlog
from aiokafka import TopicPartition
from faststream import Context
from faststream.kafka import KafkaBroker
from faststream.middlewares import AckPolicy
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind

from omni_contracts import REGISTRY, DecodeError, Envelope, EventRegistry, headers_to_dict

from . import metrics
from .context import event_trace_ctx
from .db import Database
from .dlq import DeadLetters
from .failures import FailureClass, PermanentError, TransientError, WaitingFor, classify, describe
from .logging import get_logger
from .tracing import extract_context, tracer
from .uow import SqlUnitOfWork, UnitOfWork

log = get_logger("omni.consumer")

Handler = Callable[[UnitOfWork[Any], Envelope[Any]], Awaitable[None]]
BatchHandler = Callable[[UnitOfWork[Any], list[Envelope[Any]]], Awaitable[None]]
__all__ = ["BatchHandler", "ConsumerRuntime", "ConsumerSpec", "Handler", "PermanentError", "TransientError",
           "WaitingFor"]  # fmt: skip


@dataclass
class ConsumerSpec:
    """One consumer group on some topics. Give `handler` (one event per transaction) or `batch_handler`."""

    group: str
    topics: Sequence[str]
    handler: Handler | None = None
    batch_handler: BatchHandler | None = None
    event_types: set[str] | None = None  # others on the topics are skipped (acked, not handled)
    max_records: int = 500
    # How long one poll waits for data; data that arrives ends the wait at once (the broker answers a fetch
    # as soon as it has a byte: fetch_min_bytes=1), so this costs no latency, and an idle consumer wakes
    # twice a second. FastStream's own batch loop SLEEPS as long again after an empty poll (a message arriving
    # then waits), which forced a 5 ms poll (about 100 empty polls/s per idle consumer, most of the stack's
    # idle CPU): `_poll_without_sleep` replaces that loop step.
    poll_timeout_ms: int = 500
    session_timeout_ms: int = 10000

    def __post_init__(self) -> None:
        if (self.handler is None) == (self.batch_handler is None):
            raise ValueError(f"consumer {self.group}: give exactly one of handler / batch_handler")


@dataclass
class ConsumerRuntime:
    db: Database
    dead_letters: DeadLetters
    registry: EventRegistry = field(default_factory=lambda: REGISTRY)
    max_attempts: int = 4
    backoff_s: float = 0.05
    transient_backoff_max_s: float = 5.0
    subscribers: list[tuple[ConsumerSpec, Any]] = field(default_factory=list)
    uow_factory: Callable[[], UnitOfWork[Any]] | None = None
    degraded: dict[str, str] = field(default_factory=dict)  # group -> the transient failure it waits out
    on_released: Callable[[], None] | None = None  # wakes the parking loop when a use case releases a fact
    fetch_max_wait_ms: int = 100  # see settings.fetch_max_wait_ms

    def new_uow(self, group: str) -> UnitOfWork[Any]:
        uow = self.uow_factory() if self.uow_factory is not None else SqlUnitOfWork(self.db)
        uow.consumer = group
        if isinstance(uow, SqlUnitOfWork):
            uow.on_released = self.on_released
        return uow

    def spec(self, group: str) -> ConsumerSpec | None:
        return next((s for s, _ in self.subscribers if s.group == group), None)

    async def apply(self, spec: ConsumerSpec, envs: list[Envelope[Any]], uow: UnitOfWork[Any]) -> None:
        """Run the spec's handler on `envs` inside `uow` (already open)."""
        if spec.handler is not None:
            for env in envs:
                await spec.handler(uow, env)
        else:
            assert spec.batch_handler is not None
            await spec.batch_handler(uow, envs)

    def _transient(self, spec: ConsumerSpec, exc: BaseException, attempt: int) -> float:
        reason = describe(exc, 300)
        if spec.group not in self.degraded:
            log.warning(
                "consumer degraded: waiting out a transient failure", consumer=spec.group, error=reason
            )
        self.degraded[spec.group] = reason
        metrics.CONSUMER_DEGRADED.labels(spec.group).set(1)
        metrics.TRANSIENT_RETRIES.labels(spec.group, type(exc).__name__).inc()
        return min(self.backoff_s * 2 ** min(attempt - 1, 16), self.transient_backoff_max_s)

    def _recovered(self, spec: ConsumerSpec) -> None:
        if self.degraded.pop(spec.group, None) is not None:
            metrics.CONSUMER_DEGRADED.labels(spec.group).set(0)
            log.info("consumer recovered", consumer=spec.group)

    async def park(self, spec: ConsumerSpec, env: Envelope[Any], waiting: WaitingFor) -> None:
        """Keep `env` (claimed in the inbox, so a redelivery is skipped) until its fact arrives."""
        attempt = 0
        while True:
            attempt += 1
            try:
                uow = self.new_uow(spec.group)
                async with uow:
                    await uow.claim(spec.group, [(env.event_id, env.event_type)])
                    uow.park(env, waiting.key, waiting.reason)
                log.info("event parked", consumer=spec.group, waits_for=waiting.key, reason=waiting.reason)
                return
            except Exception as exc:
                if classify(exc) is not FailureClass.TRANSIENT:
                    raise
                await asyncio.sleep(self._transient(spec, exc, attempt))

    def register(self, broker: KafkaBroker, spec: ConsumerSpec) -> Any:
        common: dict[str, Any] = {
            "group_id": spec.group,
            "ack_policy": AckPolicy.NACK_ON_ERROR,
            "auto_offset_reset": "earliest",
            "decoder": _raw_decoder,
            "session_timeout_ms": spec.session_timeout_ms,
            "heartbeat_interval_ms": max(spec.session_timeout_ms // 5, 500),
            "max_poll_interval_ms": 900_000,  # a transient outage may hold one poll for minutes
            "fetch_max_wait_ms": self.fetch_max_wait_ms,
            "include_in_schema": False,
        }
        if spec.batch_handler is not None:
            sub = broker.subscriber(
                *spec.topics,
                batch=True,
                max_records=spec.max_records,
                batch_timeout_ms=spec.poll_timeout_ms,
                **common,
            )
            sub.get_msg = _poll_without_sleep(spec)

            async def on_batch(body: Any, message: Any = Context("message")) -> None:
                await self.process_batch(spec, list(message.raw_message))

            sub(on_batch)
        else:
            sub = broker.subscriber(*spec.topics, **common)

            async def on_message(body: Any, message: Any = Context("message")) -> None:
                await self.process_one(spec, message.raw_message)

            sub(on_message)
        self.subscribers.append((spec, sub))
        return sub

    # -- one message -----------------------------------------------------------------------------------------
    def _wanted(self, spec: ConsumerSpec, headers: dict[str, str]) -> bool:
        t = headers.get("event_type")
        return spec.event_types is None or t is None or t in spec.event_types

    async def process_one(self, spec: ConsumerSpec, record: Any) -> None:
        hdr = headers_to_dict(record.headers)
        if not self._wanted(spec, hdr):
            return
        ctx = extract_context(record.headers)
        with tracer().start_as_current_span(
            f"{spec.group} consume {hdr.get('event_type', record.topic)}", context=ctx, kind=SpanKind.CONSUMER
        ) as span:
            try:
                env = self.registry.decode(record.value, record.headers)
            except DecodeError as exc:
                span.set_attribute("omni.dead_lettered", True)
                await self.dead_letters.send(spec.group, record, exc, attempts=1)
                return
            if spec.event_types is not None and env.event_type not in spec.event_types:
                return
            _annotate(span, env)
            _count_forward(spec, env)
            ctxs = {env.event_id: trace.set_span_in_context(span)}
            await self._with_retries(spec, record, [env], ctxs)

    async def _with_retries(
        self, spec: ConsumerSpec, record: Any, envs: list[Envelope[Any]], ctxs: dict[Any, Any]
    ) -> None:
        env = envs[0]
        token = event_trace_ctx.set(ctxs)
        structlog.contextvars.bind_contextvars(
            correlation_id=env.correlation_id, event_id=str(env.event_id), event_type=env.event_type
        )
        try:
            attempt = 0  # counts permanent-looking failures only: transient ones wait without limit
            transient = 0
            while True:
                t0 = time.perf_counter()
                try:
                    uow = self.new_uow(spec.group)
                    async with uow:
                        fresh = bool(await uow.claim(spec.group, [(env.event_id, env.event_type)]))
                        if fresh:
                            await self.apply(spec, [env], uow)
                    self._recovered(spec)
                    metrics.HANDLER_SECONDS.labels(spec.group, "single").observe(time.perf_counter() - t0)
                    if fresh:
                        metrics.EVENTS_HANDLED.labels(spec.group, env.event_type).inc()
                    else:
                        metrics.EVENTS_DUPLICATE.labels(spec.group).inc()
                        log.info("duplicate event skipped", consumer=spec.group)
                    return
                except Exception as exc:
                    metrics.HANDLER_FAILURES.labels(spec.group).inc()
                    kind = classify(exc)
                    if kind is FailureClass.WAITING:
                        assert isinstance(exc, WaitingFor)
                        await self.park(spec, env, exc)
                        return
                    if kind is FailureClass.TRANSIENT:
                        transient += 1
                        await asyncio.sleep(self._transient(spec, exc, transient))
                        continue
                    attempt += 1
                    log.warning(
                        "handler failed",
                        consumer=spec.group,
                        attempt=attempt,
                        max_attempts=self.max_attempts,
                        error_class=type(exc).__name__,
                        error=describe(exc, 500),
                    )
                    if isinstance(exc, PermanentError) or attempt >= self.max_attempts:
                        await self.dead_letters.send(spec.group, record, exc, attempts=attempt)
                        return
                    await asyncio.sleep(self.backoff_s * 2 ** (attempt - 1))
        finally:
            event_trace_ctx.reset(token)
            structlog.contextvars.unbind_contextvars("correlation_id", "event_id", "event_type")

    # -- a batch ---------------------------------------------------------------------------------------------
    async def process_batch(self, spec: ConsumerSpec, records: list[Any]) -> None:
        assert spec.batch_handler is not None
        decoded: list[tuple[Any, Envelope[Any]]] = []
        ctxs: dict[Any, Any] = {}
        tr = tracer()
        for record in records:
            hdr = headers_to_dict(record.headers)
            if not self._wanted(spec, hdr):
                continue
            # A span per event, started and ended around its decoding WITHOUT becoming the current one (no
            # context attach/detach per record): the batch's work runs under each event's span context.
            span = tr.start_span(
                f"{spec.group} consume {hdr.get('event_type', record.topic)}",
                context=propagate.extract(hdr),
                kind=SpanKind.CONSUMER,
            )
            try:
                env = self.registry.decode(record.value, record.headers)
            except DecodeError as exc:
                span.set_attribute("omni.dead_lettered", True)
                span.end()
                await self.dead_letters.send(spec.group, record, exc, attempts=1)
                continue
            _annotate(span, env)
            span.end()
            _count_forward(spec, env)
            ctxs[env.event_id] = trace.set_span_in_context(span)
            if spec.event_types is None or env.event_type in spec.event_types:
                decoded.append((record, env))
        if not decoded:
            return
        token = event_trace_ctx.set(ctxs)
        try:
            transient = 0
            while True:
                t0 = time.perf_counter()
                try:
                    uow = self.new_uow(spec.group)
                    async with uow:
                        fresh = await uow.claim(spec.group, [(e.event_id, e.event_type) for _, e in decoded])
                        todo, seen = [], set()
                        for _, env in decoded:
                            if env.event_id in fresh and env.event_id not in seen:
                                seen.add(env.event_id)
                                todo.append(env)
                        if todo:
                            await self.apply(spec, todo, uow)
                    self._recovered(spec)
                    metrics.HANDLER_SECONDS.labels(spec.group, "batch").observe(time.perf_counter() - t0)
                    for env in todo:
                        metrics.EVENTS_HANDLED.labels(spec.group, env.event_type).inc()
                    if len(decoded) > len(todo):
                        metrics.EVENTS_DUPLICATE.labels(spec.group).inc(len(decoded) - len(todo))
                    return
                except Exception as exc:
                    metrics.HANDLER_FAILURES.labels(spec.group).inc()
                    if classify(exc) is FailureClass.TRANSIENT:
                        transient += 1
                        await asyncio.sleep(self._transient(spec, exc, transient))
                        continue
                    log.warning(
                        "batch failed; handling its messages one by one",
                        consumer=spec.group,
                        size=len(decoded),
                        error_class=type(exc).__name__,
                        error=describe(exc, 500),
                    )
                    break
        finally:
            event_trace_ctx.reset(token)
        for record, env in decoded:
            await self._with_retries(spec, record, [env], {env.event_id: ctxs.get(env.event_id)})

    # -- lag -------------------------------------------------------------------------------------------------
    async def update_lag(self) -> None:
        """Consumer lag per partition: high watermark minus the committed offset."""
        for spec, sub in self.subscribers:
            consumer = getattr(sub, "consumer", None)
            if consumer is None:
                continue
            for tp in list(consumer.assignment()):
                hw = consumer.highwater(tp)
                if hw is None:
                    continue
                committed = await consumer.committed(TopicPartition(tp.topic, tp.partition)) or 0
                metrics.CONSUMER_LAG.labels(spec.group, tp.topic, str(tp.partition)).set(
                    max(hw - committed, 0)
                )


def _count_forward(spec: ConsumerSpec, env: Envelope[Any]) -> None:
    """A newer version read through the newest schema this consumer knows (additive change): counted."""
    if getattr(env, "read_forward_from", None) is not None:
        metrics.FORWARD_READS.labels(spec.group, env.event_type).inc()


def _annotate(span: Any, env: Envelope[Any]) -> None:
    span.set_attributes(
        {
            "omni.event_type": env.event_type,
            "omni.event_id": str(env.event_id),
            "omni.correlation_id": env.correlation_id,
            "omni.key": env.key,
        }
    )


def _poll_without_sleep(spec: ConsumerSpec) -> Callable[[Any], Awaitable[tuple[Any, ...]]]:
    """FastStream's batch poll, minus its sleep after an empty poll: `getmany` itself waits for data."""

    async def get_msg(consumer: Any) -> tuple[Any, ...]:
        batches = await consumer.getmany(timeout_ms=spec.poll_timeout_ms, max_records=spec.max_records)
        return tuple(chain.from_iterable(batches.values()))

    return get_msg


async def _raw_decoder(msg: Any) -> Any:
    """Keep bytes as bytes: the runtime decodes (and dead-letters what it cannot decode)."""
    return msg.body
