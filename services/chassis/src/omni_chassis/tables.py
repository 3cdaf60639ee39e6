"""The chassis's own tables, present in every service's database: outbox, inbox, parked events, timers."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

chassis_metadata = MetaData()

outbox = Table(
    "outbox",
    chassis_metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("event_id", UUID(as_uuid=True), nullable=False, unique=True),
    Column("event_type", Text, nullable=False),
    Column("topic", Text, nullable=False),
    Column("key", Text, nullable=False),
    Column("value", LargeBinary, nullable=False),
    Column("headers", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("sent_at", DateTime(timezone=True), nullable=True),
    Index("outbox_unsent", "id", postgresql_where=text("sent_at IS NULL")),
    Index("outbox_sent_at", "sent_at", postgresql_where=text("sent_at IS NOT NULL")),
)

inbox = Table(
    "inbox",
    chassis_metadata,
    Column("consumer", Text, primary_key=True),
    Column("event_id", UUID(as_uuid=True), primary_key=True),
    Column("event_type", Text, nullable=True),
    Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

parked = Table(
    "parked",
    chassis_metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("consumer", Text, nullable=False),
    Column("waits_for", Text, nullable=False),
    Column("event_id", UUID(as_uuid=True), nullable=False),
    Column("event_type", Text, nullable=False),
    Column("topic", Text, nullable=False),
    Column("key", Text, nullable=True),
    Column("value", LargeBinary, nullable=False),
    Column("headers", JSONB, nullable=False),
    Column("reason", Text, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("parked_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("first_parked_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("released_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("consumer", "event_id", name="parked_consumer_event"),
    Index("parked_waits_for", "waits_for"),
    Index("parked_due", "consumer", "next_attempt_at"),
)

# Durable timers (timers.py): one row per (kind, key) while it is pending; deleted in the transaction that
# fires it. A timer that failed `max_attempts` times keeps its row with failed_at and last_error set.
timers = Table(
    "timers",
    chassis_metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("kind", Text, nullable=False),
    Column("key", Text, nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("payload", JSONB, nullable=True),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", Text, nullable=True),
    Column("failed_at", DateTime(timezone=True), nullable=True),
    Column("correlation_id", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("kind", "key", name="timers_kind_key"),
    Index("timers_due", "due_at", postgresql_where=text("failed_at IS NULL")),
)

# every table the chassis migrations create in a service's database (and the two version tables): what a
# service's "migrations == metadata" test leaves out
CHASSIS_TABLES = frozenset({*chassis_metadata.tables, "alembic_version", "alembic_version_chassis"})

OUTBOX_CHANNEL = "omni_outbox"
