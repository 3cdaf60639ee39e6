"""order: rules and strategies (versioned), order holds and the decision trace, the buyer blacklist, and
the order's tags, priority and strategy

Revision ID: order0004
Revises: order0003
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

revision = "order0004"
down_revision = "order0003"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    for kind in ("ruleset", "strategy"):
        plural = "rulesets" if kind == "ruleset" else "strategies"
        op.create_table(
            plural,
            sa.Column(f"{kind}_id", sa.Text, primary_key=True),
            sa.Column("version", sa.Integer, nullable=False),
            sa.Column("name", sa.Text, nullable=False),
            sa.Column("created_at", TS, nullable=False),
            sa.Column("updated_at", TS, nullable=False),
        )
        op.create_table(
            f"{kind}_versions",
            sa.Column(f"{kind}_id", sa.Text, sa.ForeignKey(f"{plural}.{kind}_id", ondelete="CASCADE"),
                      nullable=False),
            sa.Column("version", sa.Integer, nullable=False),
            sa.Column("doc", JSONB, nullable=False),
            sa.Column("comment", sa.Text, nullable=False),
            sa.Column("created_at", TS, nullable=False),
            sa.PrimaryKeyConstraint(f"{kind}_id", "version"),
        )  # fmt: skip
    op.create_table(
        "order_holds",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("order_id", sa.Text, sa.ForeignKey("orders.order_id", ondelete="CASCADE"), nullable=False),
        sa.Column("code", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("rule", sa.Text),
        sa.Column("blocking", sa.Boolean, nullable=False),
        sa.Column("held_at", TS, nullable=False),
        sa.Column("ended_at", TS),
        sa.Column("ended_by", sa.Text),
        sa.Column("end_reason", sa.Text),
    )
    op.create_index("order_holds_by_order", "order_holds", ["order_id", "id"])
    op.create_index(
        "order_holds_open_by_code", "order_holds", ["code", "held_at"], postgresql_where="ended_at IS NULL"
    )
    op.create_table(
        "order_decisions",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("order_id", sa.Text, sa.ForeignKey("orders.order_id", ondelete="CASCADE"), nullable=False),
        sa.Column("stage", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("matched", sa.Boolean, nullable=False),
        sa.Column("why", sa.Text, nullable=False),
        sa.Column("effect", sa.Text, nullable=False),
        sa.Column("at", TS, nullable=False),
    )
    op.create_index("order_decisions_by_order", "order_decisions", ["order_id", "id"])
    op.create_table(
        "buyer_blacklist",
        sa.Column("buyer_key", sa.Text, primary_key=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("added_at", TS, nullable=False),
    )
    op.add_column("orders", sa.Column("tags", ARRAY(sa.Text), nullable=False, server_default="{}"))
    op.add_column("orders", sa.Column("priority", sa.Integer, nullable=False, server_default="0"))
    op.add_column("orders", sa.Column("strategy", sa.Text))
    op.add_column("orders", sa.Column("merge_key", sa.Text))
    op.add_column("orders", sa.Column("presale_stage", sa.Text, nullable=False, server_default="none"))
    op.add_column("orders", sa.Column("seller_memo", sa.Text, nullable=False, server_default=""))
    op.create_index("orders_by_buyer", "orders", ["channel", "shop_id", "buyer_id", "created_at"])


def downgrade() -> None:
    op.drop_index("orders_by_buyer", "orders")
    for c in ("seller_memo", "presale_stage", "merge_key", "strategy", "priority", "tags"):
        op.drop_column("orders", c)
    for t in (
        "buyer_blacklist",
        "order_decisions",
        "order_holds",
        "strategy_versions",
        "ruleset_versions",
        "strategies",
        "rulesets",
    ):
        op.drop_table(t)  # fmt: skip
