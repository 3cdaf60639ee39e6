"""allocation rules, listing projection and sellable stock (issue #8 layers 3-4)

Revision ID: inventory0007
Revises: inventory0006
Create Date: 2026-12-03
"""

revision = "inventory0007"
down_revision = "inventory0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
