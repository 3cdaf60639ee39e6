"""The stock push's Prometheus metrics (served at /metrics with the chassis' own)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

PUSHES = Counter("omni_channel_pushes_total", "Stock pushes answered, by outcome", ["channel", "outcome"])
PUSH_LATENCY = Histogram(
    "omni_channel_push_latency_seconds",
    "From the number's computation (the event's computed_at) to the platform's acknowledgement",
    ["channel"],
    buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
PUSH_CALL_SECONDS = Histogram(
    "omni_channel_push_call_seconds",
    "One platform stock call",
    ["channel"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
DRIFT_DETECTED = Counter(
    "omni_channel_drift_detected_total",
    "Listings whose platform quantity differed from the pushed one",
    ["channel"],
)
DRIFT_CHECKS = Counter("omni_channel_drift_checks_total", "Drift checks run")
