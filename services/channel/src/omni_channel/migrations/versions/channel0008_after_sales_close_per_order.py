"""after-sales: a close is one row per order (first close wins), and a lookup by order

Revision ID: channel0008
Revises: channel0007
Create Date: 2026-12-03
"""

from alembic import op

revision = "channel0008"
down_revision = "channel0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a Tmall TRADE_CLOSED_BY_TAOBAO then TRADE_CLOSED made two close rows: keep the first, count the other
    op.execute(
        """
        WITH ranked AS (
            SELECT channel, ref_id, channel_status, deliveries, last_received_at,
                   row_number() OVER (PARTITION BY channel, ref_id ORDER BY received_at, channel_status) AS n,
                   sum(deliveries) OVER (PARTITION BY channel, ref_id) AS total,
                   max(last_received_at) OVER (PARTITION BY channel, ref_id) AS latest
            FROM received_after_sales WHERE kind = 'close'
        ), kept AS (
            UPDATE received_after_sales r SET deliveries = k.total, last_received_at = k.latest
            FROM ranked k
            WHERE k.n = 1 AND r.kind = 'close' AND r.channel = k.channel AND r.ref_id = k.ref_id
              AND r.channel_status = k.channel_status
        )
        DELETE FROM received_after_sales r USING ranked k
        WHERE k.n > 1 AND r.kind = 'close' AND r.channel = k.channel AND r.ref_id = k.ref_id
          AND r.channel_status = k.channel_status
        """
    )
    op.create_index(
        "received_after_sales_close_once",
        "received_after_sales",
        ["channel", "ref_id"],
        unique=True,
        postgresql_where="kind = 'close'",
    )
    op.create_index("received_after_sales_order", "received_after_sales", ["channel", "channel_order_id"])


def downgrade() -> None:
    op.drop_index("received_after_sales_order", table_name="received_after_sales")
    op.drop_index("received_after_sales_close_once", table_name="received_after_sales")
