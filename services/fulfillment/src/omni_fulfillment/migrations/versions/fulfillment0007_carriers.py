"""fulfillment: carrier routing - carriers (areas, weight bands, SLA days, cut-off, capacity, health), pin
rules, the delivery promise, their audit, what routing keeps of an order and of each material's weight, and
each task's carrier choices

Revision ID: fulfillment0007
Revises: fulfillment0006
Create Date: 2026-12-14
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "fulfillment0007"
down_revision = "fulfillment0006"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
JSONB = postgresql.JSONB


def upgrade() -> None:
    op.create_table(
        "carriers",
        sa.Column("code", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("health", sa.Text, nullable=False),
        sa.Column("health_note", sa.Text, nullable=False),
        sa.Column("timezone", sa.Text, nullable=False),
        sa.Column("cutoff", sa.Text, nullable=True),
        sa.Column("daily_capacity", sa.Integer, nullable=True),
        sa.Column("default_sla_days", sa.Integer, nullable=False),
        sa.Column("areas", JSONB, nullable=False),
        sa.Column("sla", JSONB, nullable=False),
        sa.Column("bands", JSONB, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.CheckConstraint("health IN ('healthy', 'degraded', 'down')", name="carriers_health"),
    )
    op.create_table(
        "carrier_pins",
        sa.Column("rule_id", sa.Text, primary_key=True),
        sa.Column("carrier", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("material_code", sa.Text, nullable=True),
        sa.Column("shop_id", sa.Text, nullable=True),
        sa.Column("area", JSONB, nullable=True),
        sa.Column("priority", sa.Integer, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.CheckConstraint("kind IN ('sku', 'shop', 'region')", name="carrier_pins_kind"),
    )
    op.create_table(
        "carrier_settings",
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("value", JSONB, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "carrier_audit",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("data", JSONB, nullable=False),
        sa.Column("at", TS, nullable=False),
    )
    op.create_index("carrier_audit_subject", "carrier_audit", ["subject", "id"])
    op.create_table(
        "carrier_orders",
        sa.Column("order_id", sa.Text, primary_key=True),
        sa.Column("shop_id", sa.Text, nullable=False),
        sa.Column("province", sa.Text, nullable=False),
        sa.Column("city", sa.Text, nullable=False),
        sa.Column("district", sa.Text, nullable=False),
        sa.Column("hints", JSONB, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "material_weights",
        sa.Column("material_code", sa.Text, primary_key=True),
        sa.Column("weight_g", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "carrier_assignments",
        sa.Column("task_id", sa.Text, nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("order_id", sa.Text, nullable=False),
        sa.Column("node_code", sa.Text, nullable=False),
        sa.Column("carrier", sa.Text, nullable=True),
        sa.Column("cost_cents", sa.Integer, nullable=True),
        sa.Column("weight_g", sa.Integer, nullable=False),
        sa.Column("sla_days", sa.Integer, nullable=True),
        sa.Column("promised_days", sa.Integer, nullable=False),
        sa.Column("ship_day", sa.Date, nullable=True),
        sa.Column("current", sa.Boolean, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("considered", JSONB, nullable=False),
        sa.Column("refused_reason", sa.Text, nullable=True),
        sa.Column("chosen_at", TS, nullable=False),
        sa.Column("refused_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("task_id", "attempt", name="carrier_assignments_pkey"),
    )
    op.create_index(
        "carrier_assignments_day",
        "carrier_assignments",
        ["carrier", "ship_day"],
        postgresql_where=sa.text("current"),
    )
    op.create_index("carrier_assignments_order", "carrier_assignments", ["order_id"])


def downgrade() -> None:
    for table in (
        "carrier_assignments", "material_weights", "carrier_orders", "carrier_audit", "carrier_settings",
        "carrier_pins", "carriers",
    ):  # fmt: skip
        op.drop_table(table)
