"""order: the platform's own protected receiver (Taobao / PDD / Douyin ciphertexts, to decrypt through the
platform, e.g. to print a waybill), kept beside Omni's sealed columns and masks

Revision ID: order0014
Revises: order0013
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "order0014"
down_revision = "order0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("orders", sa.Column("platform_receiver", JSONB))


def downgrade() -> None:
    op.drop_column("orders", "platform_receiver")
