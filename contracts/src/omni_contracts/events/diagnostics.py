"""Diagnostic probes: bus benchmarks and end-to-end health checks publish these."""

from __future__ import annotations

from pydantic import Field

from ..envelope import EventPayload
from ..registry import event
from ..topics import Topic


@event("diagnostics.probe", 1, Topic.DIAGNOSTICS)
class ProbeV1(EventPayload):
    """A numbered probe; `sent_at_ns` is the sender's wall clock (ns) so a receiver can measure latency."""

    seq: int = Field(ge=0)
    sent_at_ns: int = Field(ge=0)
    body: str = ""
