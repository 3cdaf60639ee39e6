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
OUTBOX_ERRORS = Counter(
    "omni_outbox_errors_total", "Outbox relay failures, by error class", ["service", "error_class"]
)
OUTBOX_OLDEST_SECONDS = Gauge(
    "omni_outbox_oldest_unsent_seconds", "Age of the oldest unsent outbox row", ["service"]
)
TASK_UP = Gauge("omni_task_up", "1 while a supervised background task runs", ["task"])
TASK_RESTARTS = Counter("omni_task_restarts_total", "Restarts of a supervised background task", ["task"])
CONSUMER_DEGRADED = Gauge(
    "omni_consumer_degraded", "1 while a consumer retries a transient failure", ["consumer"]
)
TRANSIENT_RETRIES = Counter(
    "omni_consumer_transient_retries_total", "Retries of transient failures", ["consumer", "error_class"]
)
PARKED = Gauge("omni_parked_events", "Events parked, waiting for a fact", ["consumer"])
PARKED_OLDEST_SECONDS = Gauge("omni_parked_oldest_seconds", "Age of the oldest parked event", ["consumer"])
PARKED_TOTAL = Counter("omni_parked_total", "Events parked", ["consumer"])
UNPARKED_TOTAL = Counter(
    "omni_unparked_total", "Parked events applied after their fact arrived", ["consumer"]
)
FORWARD_READS = Counter(
    "omni_forward_reads_total",
    "Events of a newer version read through the newest known schema",
    ["consumer", "event_type"],
)
TIMERS_FIRED = Counter("omni_timers_fired_total", "Durable timers fired (handler committed)", ["kind"])
TIMER_FAILURES = Counter("omni_timer_failures_total", "Failed timer handler attempts", ["kind"])
TIMERS_PENDING = Gauge("omni_timers_pending", "Timers waiting for their due time or to be fired", ["kind"])
TIMERS_OVERDUE = Gauge(
    "omni_timers_overdue", "Timers past their due time by more than a second, not fired yet", ["kind"]
)
TIMERS_DEAD = Gauge("omni_timers_failed", "Timers that gave up after their last attempt", ["kind"])
TIMER_LATENESS = Histogram(
    "omni_timer_lateness_seconds",
    "How late a timer fired after its due time",
    ["kind"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
