"""reservation time-to-live for unpaid own-mall orders (issue #8 layer 2)

`expires_at`: when an unpaid reservation gives its stock back by itself (a chassis timer
`inventory.reservation-expiry` keyed by reservation id fires then); `confirmed_at`: when payment arrived
(the TTL is cleared). Both null for reservations made by fulfillment's requests.

Revision ID: inventory0006
Revises: inventory0005
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "inventory0006"
down_revision = "inventory0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("reservations", sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("reservations", sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("reservations", "confirmed_at")
    op.drop_column("reservations", "expires_at")
