"""The tables of store tasks' work (fulfillment0005), beside the tasks themselves (tables.py): the reject
reasons and their versions, the staff's actions (one per client action id), rejections and reassignments
(the re-sources an order used), node pauses, SLA policies, cycle-count requests, and the channel of each
order (for SLAs per channel and the buyer's pickup-code message)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Identity,
    Index,
    Integer,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from .tables import TS, metadata

order_refs = Table(
    "order_refs",
    metadata,
    Column("order_id", Text, primary_key=True),
    Column("channel", Text, nullable=False),
    Column("shop_id", Text, nullable=False),
    Column("channel_order_id", Text, nullable=False),
    Column("created_at", TS, nullable=False),
)

reject_reasons = Table(
    "reject_reasons",
    metadata,
    Column("code", Text, primary_key=True),
    Column("label", Text, nullable=False),
    Column("zero_stock", Boolean, nullable=False),
    Column("request_count", Boolean, nullable=False),
    Column("pause_minutes", Integer, nullable=True),
    Column("next", Text, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("system", Boolean, nullable=False),  # used by fulfillment itself (short_pick): never deleted
    Column("version", Integer, nullable=False),
    Column("updated_at", TS, nullable=False),
    Column("updated_by", Text, nullable=True),
    CheckConstraint("next IN ('next_best_node', 'warehouses_only', 'backorder')", name="reject_reasons_next"),
    CheckConstraint("pause_minutes IS NULL OR pause_minutes > 0", name="reject_reasons_pause"),
)

# every version of every reason as it was saved (doc: the reason's fields; a deletion is a version too)
reject_reason_versions = Table(
    "reject_reason_versions",
    metadata,
    Column("code", Text, primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("doc", JSONB, nullable=False),
    Column("changed_at", TS, nullable=False),
    Column("changed_by", Text, nullable=True),
)

# one row per client action id (Idempotency-Key): a retry finds it and does nothing again
task_actions = Table(
    "task_actions",
    metadata,
    Column("action_id", Text, primary_key=True),
    Column("task_id", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("digest", Text, nullable=False),  # what was asked (a hash of the body): a different ask is refused
    Column("outcome", Text, nullable=False),  # done | wrong_code | locked
    Column("actor", Text, nullable=True),
    Column("detail", Text, nullable=False, server_default=""),
    Column("at", TS, nullable=False),
    Index("task_actions_task", "task_id", "at"),
)

task_rejections = Table(
    "task_rejections",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("order_id", Text, nullable=False),
    Column("task_id", Text, nullable=False),
    Column("node_code", Text, nullable=False),
    Column("kind", Text, nullable=False),  # rejected | short_pick | accept_timeout
    Column("reason_code", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("lines", JSONB, nullable=False),
    Column("next", Text, nullable=False),
    Column("outcome", Text, nullable=False),  # re-sourced | gave up: ...
    Column("actor", Text, nullable=True),
    Column("at", TS, nullable=False),
    CheckConstraint("kind IN ('rejected', 'short_pick', 'accept_timeout')", name="task_rejections_kind"),
    Index("task_rejections_order", "order_id", "at"),
)

node_pauses = Table(
    "node_pauses",
    metadata,
    Column("node_code", Text, primary_key=True),
    Column("until", TS, nullable=False),
    Column("reason", Text, nullable=False),
    Column("task_id", Text, nullable=True),
    Column("updated_at", TS, nullable=False),
)

# SLA per node and channel ('*': any); NULL: inherit, 0: no such SLA
sla_policies = Table(
    "sla_policies",
    metadata,
    Column("node_code", Text, primary_key=True),
    Column("channel", Text, primary_key=True),
    Column("accept_s", Integer, nullable=True),
    Column("pick_pack_s", Integer, nullable=True),
    Column("pickup_hold_s", Integer, nullable=True),
    Column("updated_at", TS, nullable=False),
    Column("updated_by", Text, nullable=True),
    CheckConstraint(
        "(accept_s IS NULL OR accept_s >= 0) AND (pick_pack_s IS NULL OR pick_pack_s >= 0) "
        "AND (pickup_hold_s IS NULL OR pickup_hold_s >= 0)",
        name="sla_policies_non_negative",
    ),
)

count_requests = Table(
    "count_requests",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("node_code", Text, nullable=False),
    Column("material_code", Text, nullable=False),
    Column("task_id", Text, nullable=False),
    Column("reason_code", Text, nullable=False),
    Column("requested_at", TS, nullable=False),
    Column("done_at", TS, nullable=True),
    Column("done_by", Text, nullable=True),
    Index(
        "count_requests_open",
        "node_code",
        "material_code",
        unique=True,
        postgresql_where=text("done_at IS NULL"),
    ),
)
