"""product: the facts order rules decide on, per material: category, tags, handling class, VAT rate

Existing materials get the defaults (uncategorised, no tags, normal handling, 13 % VAT), which is what
product.material.upserted v1 meant.

Revision ID: product0002
Revises: product0001
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "product0002"
down_revision = "product0001"
branch_labels = None
depends_on = None

# the handling classes of omni_contracts.events.product as of this revision (a migration never changes)
HANDLING = ("normal", "cold_chain", "frozen", "oversize", "virtual", "service")


def upgrade() -> None:
    op.add_column("materials", sa.Column("category", sa.Text, nullable=False, server_default=""))
    op.add_column("materials", sa.Column("tags", ARRAY(sa.Text), nullable=False, server_default="{}"))
    op.add_column("materials", sa.Column("handling", sa.Text, nullable=False, server_default="normal"))
    op.add_column("materials", sa.Column("tax_rate_bp", sa.Integer, nullable=False, server_default="1300"))
    op.create_check_constraint(
        "materials_handling", "materials", "handling IN (" + ", ".join(f"'{h}'" for h in HANDLING) + ")"
    )
    op.create_check_constraint("materials_tax_rate_bp", "materials", "tax_rate_bp BETWEEN 0 AND 10000")
    op.create_index(
        "materials_category", "materials", ["category"], postgresql_ops={"category": "text_pattern_ops"}
    )
    op.create_index("materials_tags", "materials", ["tags"], postgresql_using="gin")


def downgrade() -> None:
    op.drop_index("materials_tags", "materials")
    op.drop_index("materials_category", "materials")
    op.drop_constraint("materials_tax_rate_bp", "materials")
    op.drop_constraint("materials_handling", "materials")
    for column in ("tax_rate_bp", "handling", "tags", "category"):
        op.drop_column("materials", column)
