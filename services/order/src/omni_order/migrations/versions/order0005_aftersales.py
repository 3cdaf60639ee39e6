"""order: after-sales cases (refunds, returns, exchanges, reships, repairs, compensation)

Revision ID: order0005
Revises: order0004
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "order0005"
down_revision = "order0004"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "aftersales_cases",
        sa.Column("case_id", sa.Text, primary_key=True),
        sa.Column("order_id", sa.Text, sa.ForeignKey("orders.order_id", ondelete="CASCADE"), nullable=False),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("shop_id", sa.Text, nullable=False),
        sa.Column("channel_order_id", sa.Text, nullable=False),
        sa.Column("channel_refund_id", sa.Text),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("channel_status", sa.Text),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("refund_cents", sa.BigInteger, nullable=False),
        sa.Column("goods_refund_cents", sa.BigInteger, nullable=False),
        sa.Column("freight_refund_cents", sa.BigInteger, nullable=False),
        sa.Column("money_done", sa.Boolean, nullable=False),
        sa.Column("node_code", sa.Text),
        sa.Column("outbound_order_id", sa.Text),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("channel", "channel_refund_id", name="aftersales_cases_refund_uq"),
    )
    op.create_index("aftersales_cases_by_order", "aftersales_cases", ["order_id"])
    op.create_index("aftersales_cases_by_created", "aftersales_cases", ["created_at", "case_id"])
    op.create_table(
        "aftersales_lines",
        sa.Column(
            "case_id", sa.Text, sa.ForeignKey("aftersales_cases.case_id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("line_id", sa.Text, nullable=False),
        sa.Column("channel_line_id", sa.Text, nullable=False),
        sa.Column("material_code", sa.Text, nullable=False),
        sa.Column("qty", sa.Integer, nullable=False),
        sa.Column("refund_cents", sa.BigInteger, nullable=False),
        sa.Column("good_qty", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("defective_qty", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.PrimaryKeyConstraint("case_id", "line_id"),
    )
    op.create_table(
        "aftersales_history",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column(
            "case_id", sa.Text, sa.ForeignKey("aftersales_cases.case_id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("from_state", sa.Text),
        sa.Column("to_state", sa.Text, nullable=False),
        sa.Column("platform_status", sa.Text),
        sa.Column("channel_status", sa.Text),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("cause_event_id", UUID(as_uuid=True)),
        sa.Column("at", TS, nullable=False),
    )
    op.create_index("aftersales_history_by_case", "aftersales_history", ["case_id", "id"])
    op.create_index(
        "aftersales_history_status_uq",
        "aftersales_history",
        ["case_id", "platform_status"],
        unique=True,
        postgresql_where=sa.text("platform_status IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_table("aftersales_history")
    op.drop_table("aftersales_lines")
    op.drop_table("aftersales_cases")
