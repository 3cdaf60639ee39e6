"""order: backorders

Revision ID: order0006
Revises: order0005
Create Date: 2026-12-03
"""

revision = "order0006"
down_revision = "order0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
