"""the stock push: shops' session key and credentials refusal, push_status, push_attempts, schedules

Revision ID: channel0002
Revises: channel0001
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "channel0002"
down_revision = "channel0001"
branch_labels = None
depends_on = None

STATES = ("pending", "retrying", "acknowledged", "refused", "credentials", "unsupported")


def upgrade() -> None:
    op.add_column("shops", sa.Column("session_key", sa.Text, nullable=True))
    op.add_column("shops", sa.Column("credentials_error", sa.Text, nullable=True))
    op.add_column("shops", sa.Column("credentials_error_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "push_status",
        sa.Column("listing_id", sa.Text, nullable=False),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("shop_id", sa.Text, nullable=False),
        sa.Column("channel_item_id", sa.Text, nullable=False),
        sa.Column("channel_sku_id", sa.Text, nullable=True),
        sa.Column("desired_qty", sa.Integer, nullable=False),
        sa.Column("desired_seq", sa.BigInteger, nullable=False),
        sa.Column("rules_version", sa.Integer, nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claim_token", sa.Text, nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pushed_qty", sa.Integer, nullable=True),
        sa.Column("pushed_seq", sa.BigInteger, nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("platform_qty", sa.Integer, nullable=True),
        sa.Column("platform_answer", sa.Text, nullable=True),
        sa.Column("drift_qty", sa.Integer, nullable=True),
        sa.Column("drift_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("drifts", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("listing_id", name="push_status_pk"),
        sa.CheckConstraint(f"state IN {STATES}", name="push_status_state"),
    )
    op.create_index(
        "push_status_due",
        "push_status",
        ["next_attempt_at"],
        postgresql_where=sa.text("next_attempt_at IS NOT NULL"),
    )
    op.create_index("push_status_by_shop", "push_status", ["channel", "shop_id", "state"])
    op.create_index("push_status_by_state", "push_status", ["state", "listing_id"])
    op.create_table(
        "push_attempts",
        sa.Column("id", sa.BigInteger, sa.Identity(always=True), nullable=False),
        sa.Column("listing_id", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("detail", sa.Text, nullable=True),
        sa.Column("code", sa.Integer, nullable=True),
        sa.Column("sub_code", sa.Text, nullable=True),
        sa.Column("platform_qty", sa.Integer, nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="push_attempts_pk"),
    )
    op.create_index("push_attempts_by_listing", "push_attempts", ["listing_id", "id"])
    op.create_table(
        "schedules",
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("next_run_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_result", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("name", name="schedules_pk"),
    )


def downgrade() -> None:
    op.drop_table("schedules")
    op.drop_index("push_attempts_by_listing", table_name="push_attempts")
    op.drop_table("push_attempts")
    op.drop_index("push_status_by_state", table_name="push_status")
    op.drop_index("push_status_by_shop", table_name="push_status")
    op.drop_index("push_status_due", table_name="push_status")
    op.drop_table("push_status")
    op.drop_column("shops", "credentials_error_at")
    op.drop_column("shops", "credentials_error")
    op.drop_column("shops", "session_key")
