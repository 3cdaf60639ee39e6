"""Per-request / per-event context: which service we are, the correlation id, the event being handled."""

from __future__ import annotations

from contextvars import ContextVar
from uuid import UUID

from opentelemetry.context import Context

_service_name: list[str] = ["omni"]
correlation_id_var: ContextVar[str | None] = ContextVar("correlation_id", default=None)
# Trace context of each event being handled in this task (a batch holds many), so that the events a handler
# emits continue the trace of the event that caused them.
event_trace_ctx: ContextVar[dict[UUID, Context] | None] = ContextVar("event_trace_ctx", default=None)


def set_service_name(name: str) -> None:
    _service_name[0] = name


def service_name() -> str:
    return _service_name[0]
