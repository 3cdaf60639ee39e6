"""The one envelope every Omni event travels in."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar
from uuid import UUID, uuid4

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, PrivateAttr, field_validator

T = TypeVar("T", bound=BaseModel)

# Kafka header names carried by every event (values are UTF-8 bytes).
H_EVENT_ID = "event_id"
H_EVENT_TYPE = "event_type"
H_EVENT_VERSION = "event_version"
H_CORRELATION_ID = "correlation_id"
H_CAUSATION_ID = "causation_id"
H_PRODUCER = "producer"
# Sent with every version above 1: the oldest version whose readers can read this one (it only adds fields
# to that version). A consumer that knows up to v(N) reads a newer event through v(N) unless this says the
# newer version is not readable as v(N) (a breaking change).
H_EVENT_READABLE_AS = "event_readable_as"
H_CONTENT_TYPE = "content-type"
CONTENT_TYPE = "application/json"


def utcnow() -> datetime:
    return datetime.now(UTC)


class EventPayload(BaseModel):
    """Base of every event payload. Unknown fields are ignored so additive changes stay compatible."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    # Filled in by the @event decorator of the registry.
    __event_type__: str = ""
    __event_version__: int = 0
    __topic__: str = ""
    __readable_as__: int = 0  # the oldest version whose readers can read this one (see the registry)


class Envelope(BaseModel, Generic[T]):
    """Metadata plus the typed payload. `key` is the partition key (the aggregate id)."""

    model_config = ConfigDict(frozen=True)

    event_id: UUID = Field(default_factory=uuid4)
    event_type: str = Field(min_length=1)
    event_version: int = Field(ge=1)
    occurred_at: AwareDatetime = Field(default_factory=utcnow)
    producer: str = Field(min_length=1)
    correlation_id: str = Field(min_length=1)
    causation_id: str | None = None
    key: str = Field(min_length=1)
    data: T
    # Set by the registry when it read a version newer than it knows through its own newest one.
    _read_forward_from: int | None = PrivateAttr(default=None)

    @property
    def read_forward_from(self) -> int | None:
        """The version on the wire when this envelope was read forward (a newer, additive version read
        through this consumer's newest schema: `event_version` is then the version of `data`); else None."""
        return self._read_forward_from

    @field_validator("occurred_at")
    @classmethod
    def _to_utc(cls, v: datetime) -> datetime:
        return v.astimezone(UTC)

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    def headers(self) -> list[tuple[str, bytes]]:
        h = [
            (H_EVENT_ID, str(self.event_id).encode()),
            (H_EVENT_TYPE, self.event_type.encode()),
            (H_EVENT_VERSION, str(self.event_version).encode()),
            (H_CORRELATION_ID, self.correlation_id.encode()),
            (H_PRODUCER, self.producer.encode()),
            (H_CONTENT_TYPE, CONTENT_TYPE.encode()),
        ]
        if self.causation_id:
            h.append((H_CAUSATION_ID, self.causation_id.encode()))
        readable_as = getattr(type(self.data), "__readable_as__", 0)
        if self.event_version > 1 and readable_as:
            h.append((H_EVENT_READABLE_AS, str(readable_as).encode()))
        return h


def make_envelope(
    data: EventPayload,
    *,
    producer: str,
    key: str,
    correlation_id: str | None = None,
    causation_id: str | None = None,
    event_id: UUID | None = None,
    occurred_at: datetime | None = None,
) -> Envelope[Any]:
    """Wrap a registered payload. Type and version come from the payload's class."""
    cls = type(data)
    if not cls.__event_type__:
        raise TypeError(f"{cls.__name__} is not a registered event payload (use @event)")
    eid = event_id or uuid4()
    return Envelope[cls](  # type: ignore[valid-type]
        event_id=eid,
        event_type=cls.__event_type__,
        event_version=cls.__event_version__,
        occurred_at=occurred_at or utcnow(),
        producer=producer,
        correlation_id=correlation_id or str(eid),
        causation_id=causation_id,
        key=key,
        data=data,
    )


def headers_to_dict(headers: Mapping[str, Any] | Iterable[tuple[str, Any]] | None) -> dict[str, str]:
    """Kafka headers (a list of (name, bytes) or a mapping) as a dict of str."""
    if not headers:
        return {}
    items = headers.items() if isinstance(headers, Mapping) else headers
    out: dict[str, str] = {}
    for k, v in items:
        if isinstance(v, bytes | bytearray):
            try:
                v = v.decode()
            except UnicodeDecodeError:
                v = v.decode("latin-1")
        out[str(k)] = str(v)
    return out
