"""Prometheus metrics every service exposes at /metrics."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

HANDLER_SECONDS = Histogram(
    "omni_handler_seconds",
    "Time to handle one event or one batch, DB commit included",
    ["consumer", "mode"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
EVENTS_HANDLED = Counter(
    "omni_events_handled_total", "Events handled (inbox-new)", ["consumer", "event_type"]
)
EVENTS_DUPLICATE = Counter("omni_events_duplicate_total", "Redeliveries absorbed by the inbox", ["consumer"])
HANDLER_FAILURES = Counter("omni_handler_failures_total", "Failed handler attempts", ["consumer"])
DLQ_MESSAGES = Counter("omni_dlq_messages_total", "Messages sent to a dead-letter topic", ["consumer"])
CONSUMER_LAG = Gauge(
    "omni_consumer_lag", "High watermark minus committed offset", ["consumer", "topic", "partition"]
)
OUTBOX_BACKLOG = Gauge("omni_outbox_backlog", "Outbox rows not yet published", ["service"])
OUTBOX_PUBLISHED = Counter("omni_outbox_published_total", "Outbox rows published to Kafka", ["service"])
