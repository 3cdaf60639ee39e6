"""The tables of fulfillment's database (the migrations create exactly these)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import registry
from sqlmodel import SQLModel


class Base(SQLModel, registry=registry()):
    """This service's own metadata (never SQLModel's global one: services share a test process)."""


metadata = Base.metadata

TS = DateTime(timezone=True)

nodes = Table(
    "nodes",
    metadata,
    Column("code", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("type", Text, nullable=False),
    Column("city", Text, nullable=False),
    Column("lat", Float, nullable=False),
    Column("lng", Float, nullable=False),
    Column("priority", Integer, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    # routing settings (fulfillment0006, domain/nodes.py NodeRouting; PUT /nodes/{code}/routing): business
    # hours [{day mon..sun, opens, closes}] and holidays [{date, name, windows [{opens, closes}]}] in its
    # time zone, capacity, same-city radius, load band, pools, dedicated to high-value goods
    Column("timezone", Text, nullable=False, server_default=text("'Asia/Shanghai'")),
    Column("hours", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("holidays", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("orders_per_day", Integer, nullable=True),
    Column("max_open_tasks", Integer, nullable=True),
    Column("same_city_radius_km", Float, nullable=True),
    Column("load_band_km", Float, nullable=False, server_default=text("2.0")),
    Column("pools", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("high_value", Boolean, nullable=False, server_default=text("false")),
)

# The stock projection: what inventory last said is available, per (node, material), newest `seq` wins.
stock = Table(
    "stock",
    metadata,
    Column("node_code", Text, primary_key=True),
    Column("material_code", Text, primary_key=True),
    Column("available", Integer, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("updated_at", TS, nullable=False),
    Index("stock_material", "material_code"),
)

# One row per order being (or having been) sourced. `lines` are the order's lines that ship (with their
# `line_id` since fulfillment0002, and their `group` when split by type). An order with no line that ships
# has a row too: status fulfilled, no lines.
sourcing = Table(
    "sourcing",
    metadata,
    Column("order_id", Text, primary_key=True),
    Column("status", Text, nullable=False),
    Column("lines", JSONB, nullable=False),
    Column("dest_lat", Float, nullable=True),
    Column("dest_lng", Float, nullable=True),
    Column("pickup_node", Text, nullable=True),
    Column("attempt", Integer, nullable=False),
    Column("excluded", JSONB, nullable=False),
    Column("reason", Text, nullable=False),
    # the first attempt of the current sourcing (an operator's retry starts a new one after the last)
    Column("first_attempt", Integer, nullable=False, server_default=text("1")),
    # the order.accepted event the current sourcing started from
    Column("accepted_event", Text, nullable=True),
    # what the order asks of routing (fulfillment0006, domain/routing.py OrderRouting): delivery, route hints,
    # the materials of its high-value lines; {} for an express order without any
    Column("routing", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
)

reservations = Table(
    "reservations",
    metadata,
    Column("reservation_id", Text, primary_key=True),
    Column("order_id", Text, nullable=False),
    Column("node_code", Text, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("lines", JSONB, nullable=False),
    Column("status", Text, nullable=False),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    # split by type (fulfillment0003): the group of its lines; NULL: the order's main group
    Column("line_group", Text, nullable=True),
    Index("reservations_order", "order_id"),
    # a node's load counts its pending reservations (fulfillment0006)
    Index("reservations_node_pending", "node_code", postgresql_where=text("status = 'pending'")),
)

tasks = Table(
    "tasks",
    metadata,
    Column("task_id", Text, primary_key=True),
    Column("order_id", Text, nullable=False),
    Column("node_code", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("reservation_id", Text, nullable=False, unique=True),
    Column("lines", JSONB, nullable=False),
    Column("status", Text, nullable=False),
    Column("pickup_code", Text, nullable=True),
    Column("accepted_by", Text, nullable=True),
    Column("carrier", Text, nullable=True),
    Column("tracking_no", Text, nullable=True),
    Column("created_at", TS, nullable=False),
    Column("accepted_at", TS, nullable=True),
    Column("done_at", TS, nullable=True),
    Column("cancelled_at", TS, nullable=True),
    Column("updated_at", TS, nullable=False),
    # which order lines its units fulfil: [{line_id, material_code, qty}] ([] for tasks made before)
    Column("order_lines", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    # split by type (fulfillment0003): the group of its lines; NULL: the order's main group
    Column("line_group", Text, nullable=True),
    # store tasks (fulfillment0005, tables_tasks.py has the rest): the node's type when the task was made
    # (NULL: made before; it ships as a warehouse's does), the order's channel, what was picked
    # [{material_code, qty}], when each step happened, the running SLA (due_kind accept | pick_pack |
    # pickup_hold, due_at), an escalation, the pickup code's wrong guesses, lock and messages sent, and why
    # the task ended as it did (rejected, reassigned, cancelled)
    Column("node_type", Text, nullable=True),
    Column("channel", Text, nullable=True),
    Column("picked", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("picking_at", TS, nullable=True),
    Column("packed_at", TS, nullable=True),
    Column("ready_at", TS, nullable=True),
    Column("released_at", TS, nullable=True),
    Column("due_kind", Text, nullable=True),
    Column("due_at", TS, nullable=True),
    Column("escalated_at", TS, nullable=True),
    Column("escalation", Text, nullable=True),
    Column("code_failures", Integer, nullable=False, server_default=text("0")),
    Column("locked_until", TS, nullable=True),
    Column("code_sent", Integer, nullable=False, server_default=text("0")),
    Column("status_reason", Text, nullable=True),
    Index("tasks_order", "order_id"),
    Index("tasks_node_status", "node_code", "status", "created_at"),
    Index("tasks_status", "status", "created_at"),
)

# Partial refunds before shipment (fulfillment0004): one row per after-sales case. `lines` are its refunded
# units [{line_id, material_code, qty}]. It is `pending` while the order is still being sourced, `done` once
# applied to the tasks (`intercepted` / `not_intercepted` as fulfillment.lines-intercepted said them), and
# `moot` when the order was cancelled before that.
intercepts = Table(
    "intercepts",
    metadata,
    Column("case_id", Text, primary_key=True),
    Column("order_id", Text, nullable=False),
    Column("lines", JSONB, nullable=False),
    Column("status", Text, nullable=False),
    Column("intercepted", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("not_intercepted", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    CheckConstraint("status IN ('pending', 'done', 'moot')", name="intercepts_status"),
    Index("intercepts_pending", "order_id", postgresql_where=text("status = 'pending'")),
)

# a node's orders today, counted at sourcing time (fulfillment0006)
Index("tasks_node_created", tasks.c.node_code, tasks.c.created_at)

# carrier routing's tables, on this metadata (so that the migrations and the store see them)
from . import tables_carriers  # noqa: E402, F401
