"""OpenTelemetry tracing. The W3C trace context travels in Kafka headers and HTTP headers.

Spans are exported to a JSON-lines file when `OTEL_TRACES_FILE` is set (one file may be shared by every
service of a local stack), so tests and people can follow one order across services without a collector.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable, Sequence
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

_configured = False


class JsonLinesSpanExporter(SpanExporter):
    """Appends one JSON object per finished span to a file (O_APPEND keeps lines whole across processes)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        lines = []
        for s in spans:
            ctx = s.get_span_context()
            lines.append(
                json.dumps(
                    {
                        "name": s.name,
                        "service": s.resource.attributes.get("service.name"),
                        "trace_id": format(ctx.trace_id, "032x"),
                        "span_id": format(ctx.span_id, "016x"),
                        "parent_id": format(s.parent.span_id, "016x") if s.parent else None,
                        "start_ns": s.start_time,
                        "end_ns": s.end_time,
                        "kind": s.kind.name,
                        "attributes": {k: v for k, v in (s.attributes or {}).items()},
                    }
                )
            )
        data = ("\n".join(lines) + "\n").encode()
        with self._lock:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, data)
            finally:
                os.close(fd)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        return None


def setup_tracing(service: str, traces_file: str | None = None) -> TracerProvider:
    """Install the global tracer provider once per process."""
    global _configured
    if _configured:
        return trace.get_tracer_provider()  # type: ignore[return-value]
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    if traces_file:
        provider.add_span_processor(BatchSpanProcessor(JsonLinesSpanExporter(traces_file)))
    trace.set_tracer_provider(provider)
    _configured = True
    return provider


def tracer(name: str = "omni") -> trace.Tracer:
    return trace.get_tracer(name)


def inject_headers(headers: list[tuple[str, bytes]] | None = None) -> list[tuple[str, bytes]]:
    """Kafka headers with the current trace context added."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    out = list(headers or [])
    out.extend((k, v.encode()) for k, v in carrier.items())
    return out


def extract_context(headers: Iterable[tuple[str, Any]] | dict[str, Any] | None) -> otel_context.Context:
    """The trace context carried by Kafka or HTTP headers."""
    carrier: dict[str, str] = {}
    items = headers.items() if isinstance(headers, dict) else (headers or [])
    for k, v in items:
        carrier[str(k).lower()] = v.decode() if isinstance(v, bytes | bytearray) else str(v)
    return propagate.extract(carrier)


def current_trace_id() -> str | None:
    ctx = trace.get_current_span().get_span_context()
    return format(ctx.trace_id, "032x") if ctx.is_valid else None
