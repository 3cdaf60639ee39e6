"""The channel service's tables (SQLAlchemy Core). The migrations (migrations/versions) create them."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Identity,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import registry
from sqlmodel import SQLModel


class Base(SQLModel, registry=registry()):
    """This service's own metadata (never SQLModel's global one: services share a test process)."""


metadata = Base.metadata

shops = Table(
    "shops",
    metadata,
    Column("channel", Text, nullable=False),
    Column("shop_id", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("app_key", Text, nullable=False),
    # write-only, encrypted at rest (credentials.py: Fernet tokens, never plaintext): never selected into an
    # answer or a log
    Column("secret", Text, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # the platform session token (TOP `session`): write-only like the secret
    Column("session_key", Text, nullable=True),
    # why the platform last refused the shop's credentials (cleared when the shop is saved again)
    Column("credentials_error", Text, nullable=True),
    Column("credentials_error_at", DateTime(timezone=True), nullable=True),
    # the platform's refresh token for the session key: write-only and encrypted like the secret
    Column("refresh_token", Text, nullable=True),
    # B2B: the shop takes orders the platform delivers unpaid on credit terms (1688 period / creditBuy)
    Column("accepts_on_account", Boolean, nullable=False, server_default=text("false")),
    PrimaryKeyConstraint("channel", "shop_id", name="shops_pk"),
)

# One row per distinct delivery (same channel order, same payload bytes): repeats bump `deliveries`.
received_orders = Table(
    "received_orders",
    metadata,
    Column("channel", Text, nullable=False),
    Column("channel_order_id", Text, nullable=False),
    Column("payload_sha256", Text, nullable=False),
    Column("shop_id", Text, nullable=False),
    Column("channel_status", Text, nullable=False),
    Column("outcome", Text, nullable=False),  # published | ignored | refused (a pulled order that is invalid)
    Column("reason", Text, nullable=True),  # why it was ignored
    Column("event_id", UUID(as_uuid=True), nullable=True),  # the last event published for it
    Column("deliveries", Integer, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("last_received_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("channel", "channel_order_id", "payload_sha256", name="received_orders_pk"),
    CheckConstraint("outcome IN ('published', 'ignored', 'refused')", name="received_orders_outcome"),
    Index("received_orders_by_time", "last_received_at"),
)

PUSH_STATES = ("pending", "retrying", "acknowledged", "refused", "credentials", "unsupported")

# One row per listing: what Omni wants the platform to show (desired, newest seq), what it acknowledged,
# whether a push is due (next_attempt_at) or in flight (claim_token until claimed_until), and drift seen.
push_status = Table(
    "push_status",
    metadata,
    Column("listing_id", Text, nullable=False),
    Column("channel", Text, nullable=False),
    Column("shop_id", Text, nullable=False),
    Column("channel_item_id", Text, nullable=False),
    Column("channel_sku_id", Text, nullable=True),
    Column("desired_qty", Integer, nullable=False),
    Column("desired_seq", BigInteger, nullable=False),
    Column("rules_version", Integer, nullable=False),
    Column("computed_at", DateTime(timezone=True), nullable=False),
    Column("state", Text, nullable=False),
    Column("next_attempt_at", DateTime(timezone=True), nullable=True),  # NULL: nothing to push
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("last_error", Text, nullable=True),
    Column("last_attempt_at", DateTime(timezone=True), nullable=True),
    Column("claim_token", Text, nullable=True),
    Column("claimed_until", DateTime(timezone=True), nullable=True),
    Column("pushed_qty", Integer, nullable=True),
    Column("pushed_seq", BigInteger, nullable=True),
    Column("acknowledged_at", DateTime(timezone=True), nullable=True),
    Column("platform_qty", Integer, nullable=True),  # what the platform said it shows after the push
    Column("platform_answer", Text, nullable=True),
    Column("drift_qty", Integer, nullable=True),  # what the platform showed instead, when drift was last seen
    Column("drift_seen_at", DateTime(timezone=True), nullable=True),
    Column("drifts", Integer, nullable=False, server_default=text("0")),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("listing_id", name="push_status_pk"),
    CheckConstraint(f"state IN {PUSH_STATES}", name="push_status_state"),
    Index("push_status_due", "next_attempt_at", postgresql_where=text("next_attempt_at IS NOT NULL")),
    Index("push_status_by_shop", "channel", "shop_id", "state"),
    Index("push_status_by_state", "state", "listing_id"),
)

# The last few attempts per listing (pushes and drift seen), newest kept: see PUSH_HISTORY.
push_attempts = Table(
    "push_attempts",
    metadata,
    Column("id", BigInteger, Identity(always=True), nullable=False),
    Column("listing_id", Text, nullable=False),
    Column("kind", Text, nullable=False),  # push | drift
    Column("seq", BigInteger, nullable=False),
    Column("quantity", Integer, nullable=False),  # pushed, or (drift) what Omni had pushed
    Column("outcome", Text, nullable=False),
    Column("detail", Text, nullable=True),  # the platform's message
    Column("code", Integer, nullable=True),
    Column("sub_code", Text, nullable=True),
    Column("platform_qty", Integer, nullable=True),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("id", name="push_attempts_pk"),
    Index("push_attempts_by_listing", "listing_id", "id"),
)

# Durable schedules of this service's periodic jobs (the drift check): one row per job, claimed once per
# interval across replicas.
schedules = Table(
    "schedules",
    metadata,
    Column("name", Text, nullable=False),
    Column("next_run_at", DateTime(timezone=True), nullable=False),
    Column("last_started_at", DateTime(timezone=True), nullable=True),
    Column("last_finished_at", DateTime(timezone=True), nullable=True),
    Column("last_result", Text, nullable=True),
    PrimaryKeyConstraint("name", name="schedules_pk"),
)

# Which platform order each Omni order is (from `order.accepted`, the order service's fact): what a shipment
# write-back needs to find the platform order of a shipped task. An order of its own has one row; a merged
# order (合单) one per source, naming the source's own Omni order id (migration channel0009).
channel_order_refs = Table(
    "channel_order_refs",
    metadata,
    Column("order_id", Text, nullable=False),
    Column("channel", Text, nullable=False),
    Column("shop_id", Text, nullable=False),
    Column("channel_order_id", Text, nullable=False),
    Column("source_order_id", Text, nullable=True),  # a merged order's source; NULL: the order is its own
    Column("created_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("order_id", "channel_order_id", name="channel_order_refs_pk"),
)

WRITEBACK_STATES = ("waiting", "pending", "retrying", "acknowledged", "refused", "credentials", "unsupported")

# One row per shipped fulfillment task and platform order: its write-back to the platform
# (domain/writeback.py), claimed by the write-back worker like push_status (next_attempt_at due, claim_token
# until claimed_until). A merged order's task has one row per source (domain.writeback.writeback_id_for).
shipment_writebacks = Table(
    "shipment_writebacks",
    metadata,
    Column(
        "writeback_id", Text, nullable=False
    ),  # the task id; a merged order's: <task id>:<source order id>
    Column("task_id", Text, nullable=False),  # the fulfillment task that shipped
    Column("order_id", Text, nullable=False),
    Column("source_order_id", Text, nullable=True),  # a merged order's source written back; NULL: its own
    Column("channel", Text, nullable=True),  # NULL while waiting for the order's order.accepted
    Column("shop_id", Text, nullable=True),
    Column("channel_order_id", Text, nullable=True),
    Column("carrier", Text, nullable=False),
    Column("tracking_no", Text, nullable=False),
    Column("company_code", Text, nullable=True),  # the platform's code of the carrier, as sent
    Column("shipped_at", DateTime(timezone=True), nullable=False),
    Column("state", Text, nullable=False),
    Column("next_attempt_at", DateTime(timezone=True), nullable=True),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("last_error", Text, nullable=True),
    Column("code", Integer, nullable=True),
    Column("sub_code", Text, nullable=True),
    Column("last_attempt_at", DateTime(timezone=True), nullable=True),
    Column("claim_token", Text, nullable=True),
    Column("claimed_until", DateTime(timezone=True), nullable=True),
    Column("acknowledged_at", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("writeback_id", name="shipment_writebacks_pk"),
    CheckConstraint(f"state IN {WRITEBACK_STATES}", name="shipment_writebacks_state"),
    Index("shipment_writebacks_due", "next_attempt_at", postgresql_where=text("next_attempt_at IS NOT NULL")),
    Index("shipment_writebacks_by_order", "order_id"),
    Index("shipment_writebacks_by_task", "task_id"),
    Index("shipment_writebacks_by_state", "state", "writeback_id"),
    Index("shipment_writebacks_by_channel_order", "channel", "channel_order_id"),
)
