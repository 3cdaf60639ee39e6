"""Carrier routing's tables (migration fulfillment0007), on the service's one metadata (tables.py imports
this module so that the migrations and the store see them)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from .tables import TS, metadata

# Carriers as data: service areas [{province, city, district, exclude}], weight bands [{min_g, max_g,
# first_g, first_cents, step_g, step_cents, area}], SLA days per region [{area, days}]. Every save bumps
# `version` and writes its document to carrier_audit.
carriers = Table(
    "carriers",
    metadata,
    Column("code", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("health", Text, nullable=False),
    Column("health_note", Text, nullable=False),
    Column("timezone", Text, nullable=False),
    Column("cutoff", Text, nullable=True),  # "HH:MM", local time in `timezone`
    Column("daily_capacity", Integer, nullable=True),  # NULL: unlimited
    Column("default_sla_days", Integer, nullable=False),
    Column("areas", JSONB, nullable=False),
    Column("sla", JSONB, nullable=False),
    Column("bands", JSONB, nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    CheckConstraint("health IN ('healthy', 'degraded', 'down')", name="carriers_health"),
)

# Pin rules: a carrier for parcels holding a material (sku), of a shop, or to a region (area).
carrier_pins = Table(
    "carrier_pins",
    metadata,
    Column("rule_id", Text, primary_key=True),
    Column("carrier", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("material_code", Text, nullable=True),
    Column("shop_id", Text, nullable=True),
    Column("area", JSONB, nullable=True),
    Column("priority", Integer, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    CheckConstraint("kind IN ('sku', 'shop', 'region')", name="carrier_pins_kind"),
)

# Settings as documents: key 'promise' = {default_days, regions: [{area, days}]}.
carrier_settings = Table(
    "carrier_settings",
    metadata,
    Column("key", Text, primary_key=True),
    Column("value", JSONB, nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", TS, nullable=False),
)

# Every change of a carrier, a pin or the promise: who (the gateway's principal), what, the document.
carrier_audit = Table(
    "carrier_audit",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("subject", Text, nullable=False),  # "carrier SF", "pin P1", "promise"
    Column("version", Integer, nullable=False),
    Column("action", Text, nullable=False),
    Column("actor", Text, nullable=False),
    Column("data", JSONB, nullable=False),
    Column("at", TS, nullable=False),
    Index("carrier_audit_subject", "subject", "id"),
)

# What carrier routing keeps of an order.accepted: the shop, the destination's province / city / district
# (never the street, the name or the phone) and the OMS rules' carrier hints [{carrier, ruleset}].
carrier_orders = Table(
    "carrier_orders",
    metadata,
    Column("order_id", Text, primary_key=True),
    Column("shop_id", Text, nullable=False),
    Column("province", Text, nullable=False),
    Column("city", Text, nullable=False),
    Column("district", Text, nullable=False),
    Column("hints", JSONB, nullable=False),
    Column("updated_at", TS, nullable=False),
)

# The weight of each material, projected from product.material.upserted (the newest version wins).
material_weights = Table(
    "material_weights",
    metadata,
    Column("material_code", Text, primary_key=True),
    Column("weight_g", Integer, nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", TS, nullable=False),
)

# One row per carrier choice of a task: attempt 1 at allocation, one more after each refusal at ship time.
# `current` is the choice in force; a day's capacity counts the current choices of that `ship_day` whose
# task is not cancelled.
carrier_assignments = Table(
    "carrier_assignments",
    metadata,
    Column("task_id", Text, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("order_id", Text, nullable=False),
    Column("node_code", Text, nullable=False),
    Column("carrier", Text, nullable=True),  # NULL: no carrier could take it
    Column("cost_cents", Integer, nullable=True),
    Column("weight_g", Integer, nullable=False),
    Column("sla_days", Integer, nullable=True),
    Column("promised_days", Integer, nullable=False),
    Column("ship_day", Date, nullable=True),
    Column("current", Boolean, nullable=False),
    Column("reason", Text, nullable=False),
    Column("considered", JSONB, nullable=False),
    Column("refused_reason", Text, nullable=True),
    Column("chosen_at", TS, nullable=False),
    Column("refused_at", TS, nullable=True),
    PrimaryKeyConstraint("task_id", "attempt", name="carrier_assignments_pkey"),
    Index("carrier_assignments_day", "carrier", "ship_day", postgresql_where=text("current")),
    Index("carrier_assignments_order", "order_id"),
)
