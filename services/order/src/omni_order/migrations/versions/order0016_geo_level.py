"""order: where the ship-to was located - the level (district | city | province) and the division's adcode
the geocoder found it at (domain/geo.py, docs/geo.md); both null when it could not be located

Orders taken in before: those with coordinates came from the old city table, so they are marked `city`
(their adcode is unknown); those without stay unlocated.

Revision ID: order0016
Revises: order0015
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "order0016"
down_revision = "order0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("orders", sa.Column("geo_level", sa.Text))
    op.add_column("orders", sa.Column("geo_adcode", sa.Text))
    op.create_check_constraint(
        "orders_geo_level", "orders", "geo_level IS NULL OR geo_level IN ('district', 'city', 'province')"
    )
    op.execute("UPDATE orders SET geo_level = 'city' WHERE lat IS NOT NULL")


def downgrade() -> None:
    op.drop_constraint("orders_geo_level", "orders", type_="check")
    op.drop_column("orders", "geo_adcode")
    op.drop_column("orders", "geo_level")
