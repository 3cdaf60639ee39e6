"""reservation time-to-live for unpaid own-mall orders (issue #8 layer 2)

Revision ID: inventory0006
Revises: inventory0005
Create Date: 2026-12-03
"""

revision = "inventory0006"
down_revision = "inventory0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
