"""shops.accepts_on_account: a B2B shop that takes orders the platform delivers unpaid on credit terms (1688
账期 `period`, 诚E赊 `creditBuy`); false for every shop there is (each is refused such orders, as before)

Revision ID: channel0010
Revises: channel0009
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "channel0010"
down_revision = "channel0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "shops", sa.Column("accepts_on_account", sa.Boolean, nullable=False, server_default=sa.text("false"))
    )


def downgrade() -> None:
    op.drop_column("shops", "accepts_on_account")
