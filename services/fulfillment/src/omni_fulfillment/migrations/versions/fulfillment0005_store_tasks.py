"""fulfillment: store tasks from accept to handover - pick and pack, rejection with reasons and re-sourcing,
SLA due times, pickup codes sent and guessed, node pauses, cycle-count requests

Revision ID: fulfillment0005
Revises: fulfillment0004
Create Date: 2026-12-14
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "fulfillment0005"
down_revision = "fulfillment0004"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
JSON_LIST = sa.text("'[]'::jsonb")

# the reasons every installation starts with (editable; short_pick is what a shortage at picking uses)
SEED = [
    ("out_of_stock", "库存不足 out of stock", True, True, None, "next_best_node", False),
    ("too_busy", "人手不足 too busy", False, False, 30, "next_best_node", False),
    ("out_of_range", "超出配送范围 out of range", False, False, None, "next_best_node", False),
    ("short_pick", "拣货缺货 short at picking", True, True, None, "next_best_node", True),
]


def upgrade() -> None:
    for name, type_, default in (
        ("node_type", sa.Text, None),
        ("channel", sa.Text, None),
        ("picked", postgresql.JSONB, JSON_LIST),
        ("picking_at", TS, None),
        ("packed_at", TS, None),
        ("ready_at", TS, None),
        ("released_at", TS, None),
        ("due_kind", sa.Text, None),
        ("due_at", TS, None),
        ("escalated_at", TS, None),
        ("escalation", sa.Text, None),
        ("code_failures", sa.Integer, sa.text("0")),
        ("locked_until", TS, None),
        ("code_sent", sa.Integer, sa.text("0")),
        ("status_reason", sa.Text, None),
    ):
        op.add_column("tasks", sa.Column(name, type_, nullable=default is None, server_default=default))
    op.create_table(
        "order_refs",
        sa.Column("order_id", sa.Text, primary_key=True),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("shop_id", sa.Text, nullable=False),
        sa.Column("channel_order_id", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "reject_reasons",
        sa.Column("code", sa.Text, primary_key=True),
        sa.Column("label", sa.Text, nullable=False),
        sa.Column("zero_stock", sa.Boolean, nullable=False),
        sa.Column("request_count", sa.Boolean, nullable=False),
        sa.Column("pause_minutes", sa.Integer, nullable=True),
        sa.Column("next", sa.Text, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("system", sa.Boolean, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("updated_by", sa.Text, nullable=True),
        sa.CheckConstraint(
            "next IN ('next_best_node', 'warehouses_only', 'backorder')", name="reject_reasons_next"
        ),
        sa.CheckConstraint("pause_minutes IS NULL OR pause_minutes > 0", name="reject_reasons_pause"),
    )
    op.create_table(
        "reject_reason_versions",
        sa.Column("code", sa.Text, primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("doc", postgresql.JSONB, nullable=False),
        sa.Column("changed_at", TS, nullable=False),
        sa.Column("changed_by", sa.Text, nullable=True),
    )
    now = datetime.now(UTC)
    reasons = sa.table(
        "reject_reasons",
        sa.column("code", sa.Text), sa.column("label", sa.Text), sa.column("zero_stock", sa.Boolean),
        sa.column("request_count", sa.Boolean), sa.column("pause_minutes", sa.Integer),
        sa.column("next", sa.Text), sa.column("active", sa.Boolean), sa.column("system", sa.Boolean),
        sa.column("version", sa.Integer), sa.column("updated_at", TS), sa.column("updated_by", sa.Text),
    )  # fmt: skip
    versions = sa.table(
        "reject_reason_versions",
        sa.column("code", sa.Text), sa.column("version", sa.Integer), sa.column("doc", postgresql.JSONB),
        sa.column("changed_at", TS), sa.column("changed_by", sa.Text),
    )  # fmt: skip
    by = "migration fulfillment0005"
    docs = [
        {"code": code, "label": label, "zero_stock": zero, "request_count": count, "pause_minutes": pause,
         "next": nxt, "active": True, "system": system}
        for code, label, zero, count, pause, nxt, system in SEED
    ]  # fmt: skip
    op.bulk_insert(reasons, [{**d, "version": 1, "updated_at": now, "updated_by": by} for d in docs])
    op.bulk_insert(
        versions,
        [{"code": d["code"], "version": 1, "doc": d, "changed_at": now, "changed_by": by} for d in docs],
    )
    op.create_table(
        "task_actions",
        sa.Column("action_id", sa.Text, primary_key=True),
        sa.Column("task_id", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("digest", sa.Text, nullable=False),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("actor", sa.Text, nullable=True),
        sa.Column("detail", sa.Text, nullable=False, server_default=""),
        sa.Column("at", TS, nullable=False),
    )
    op.create_index("task_actions_task", "task_actions", ["task_id", "at"])
    op.create_table(
        "task_rejections",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("order_id", sa.Text, nullable=False),
        sa.Column("task_id", sa.Text, nullable=False),
        sa.Column("node_code", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("reason_code", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("lines", postgresql.JSONB, nullable=False),
        sa.Column("next", sa.Text, nullable=False),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("actor", sa.Text, nullable=True),
        sa.Column("at", TS, nullable=False),
        sa.CheckConstraint(
            "kind IN ('rejected', 'short_pick', 'accept_timeout')", name="task_rejections_kind"
        ),
    )
    op.create_index("task_rejections_order", "task_rejections", ["order_id", "at"])
    op.create_table(
        "node_pauses",
        sa.Column("node_code", sa.Text, primary_key=True),
        sa.Column("until", TS, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("task_id", sa.Text, nullable=True),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "sla_policies",
        sa.Column("node_code", sa.Text, primary_key=True),
        sa.Column("channel", sa.Text, primary_key=True),
        sa.Column("accept_s", sa.Integer, nullable=True),
        sa.Column("pick_pack_s", sa.Integer, nullable=True),
        sa.Column("pickup_hold_s", sa.Integer, nullable=True),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("updated_by", sa.Text, nullable=True),
        sa.CheckConstraint(
            "(accept_s IS NULL OR accept_s >= 0) AND (pick_pack_s IS NULL OR pick_pack_s >= 0) "
            "AND (pickup_hold_s IS NULL OR pickup_hold_s >= 0)",
            name="sla_policies_non_negative",
        ),
    )
    op.create_table(
        "count_requests",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("node_code", sa.Text, nullable=False),
        sa.Column("material_code", sa.Text, nullable=False),
        sa.Column("task_id", sa.Text, nullable=False),
        sa.Column("reason_code", sa.Text, nullable=False),
        sa.Column("requested_at", TS, nullable=False),
        sa.Column("done_at", TS, nullable=True),
        sa.Column("done_by", sa.Text, nullable=True),
    )
    op.create_index(
        "count_requests_open",
        "count_requests",
        ["node_code", "material_code"],
        unique=True,
        postgresql_where=sa.text("done_at IS NULL"),
    )


def downgrade() -> None:
    for table in (
        "count_requests", "sla_policies", "node_pauses", "task_rejections", "task_actions",
        "reject_reason_versions", "reject_reasons", "order_refs",
    ):  # fmt: skip
        op.drop_table(table)
    for name in (
        "node_type", "channel", "picked", "picking_at", "packed_at", "ready_at", "released_at", "due_kind",
        "due_at", "escalated_at", "escalation", "code_failures", "locked_until", "code_sent", "status_reason",
    ):  # fmt: skip
        op.drop_column("tasks", name)
