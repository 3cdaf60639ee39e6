"""omni-contracts: Omni's event envelope, every event payload, topics, versions and upcasters."""

from . import events as _events  # noqa: F401  (registers every event)
from .envelope import (
    CONTENT_TYPE,
    H_CAUSATION_ID,
    H_CORRELATION_ID,
    H_EVENT_ID,
    H_EVENT_TYPE,
    H_EVENT_VERSION,
    H_PRODUCER,
    Envelope,
    EventPayload,
    headers_to_dict,
    make_envelope,
    utcnow,
)
from .registry import REGISTRY, DecodeError, EventRegistry, decode, event, upcaster
from .topics import DLQ_PREFIX, TOPICS, Topic, TopicSpec, dlq_topic

__all__ = [
    "CONTENT_TYPE",
    "DLQ_PREFIX",
    "H_CAUSATION_ID",
    "H_CORRELATION_ID",
    "H_EVENT_ID",
    "H_EVENT_TYPE",
    "H_EVENT_VERSION",
    "H_PRODUCER",
    "REGISTRY",
    "TOPICS",
    "DecodeError",
    "Envelope",
    "EventPayload",
    "EventRegistry",
    "Topic",
    "TopicSpec",
    "decode",
    "dlq_topic",
    "event",
    "headers_to_dict",
    "make_envelope",
    "upcaster",
    "utcnow",
]
