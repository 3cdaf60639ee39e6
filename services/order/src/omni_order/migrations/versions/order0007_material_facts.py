"""order: the catalog's materials carry the facts order rules decide on (product.material.upserted v2)

category, tags (text[]), handling and tax_rate_bp on catalog_materials. Rows projected from v1 events get
the defaults v1 meant (uncategorised, no tags, normal handling, 13 % VAT) until PIM sends their v2.

Revision ID: order0007
Revises: order0006
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "order0007"
down_revision = "order0006"
branch_labels = None
depends_on = None

COLUMNS = (
    sa.Column("category", sa.Text, nullable=False, server_default=sa.text("''")),
    sa.Column("tags", ARRAY(sa.Text), nullable=False, server_default=sa.text("'{}'")),
    sa.Column("handling", sa.Text, nullable=False, server_default=sa.text("'normal'")),
    sa.Column("tax_rate_bp", sa.Integer, nullable=False, server_default=sa.text("1300")),
)


def upgrade() -> None:
    for column in COLUMNS:
        op.add_column("catalog_materials", column)


def downgrade() -> None:
    for column in reversed(COLUMNS):
        op.drop_column("catalog_materials", column.name)
