"""order: after-sales cases (refunds, returns, exchanges, reships, repairs, compensation)

Revision ID: order0005
Revises: order0004
Create Date: 2026-12-03
"""

revision = "order0005"
down_revision = "order0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
