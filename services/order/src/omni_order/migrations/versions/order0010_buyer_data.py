"""order: the receiver's personal data at rest (docs/buyer-data.md): receiver_name, receiver_phone and
address_detail hold `enc:v1:` ciphertext (AES-256-GCM, the order id as associated data) or `masked:<the
platform's mask>`, and three new columns their masks for display

Rows written before this revision are plain. Their masks are filled here in SQL (the same rules as
domain/buyer_data.py's masks). Their values are sealed here too when ORDER_BUYER_DATA_KEYS is in the
migrating process's environment (the k8s migrate init container has it); without it they stay plain, and the
service reads a value without the `enc:` / `masked:` prefix as a legacy plain one (docs/buyer-data.md).

Revision ID: order0010
Revises: order0009
Create Date: 2026-12-04
"""

import os

import sqlalchemy as sa
from alembic import op

revision = "order0010"
down_revision = "order0009"
branch_labels = None
depends_on = None

COLUMNS = ("receiver_name", "receiver_phone", "address_detail")
# a value with a '*' is the platform's mask already: kept as it is
_MASK_SQL = {
    "receiver_name": "CASE WHEN strpos(receiver_name, '*') > 0 OR receiver_name = '' THEN receiver_name "
    "ELSE left(receiver_name, 1) || '*' END",
    "receiver_phone": "CASE WHEN strpos(receiver_phone, '*') > 0 OR receiver_phone = '' THEN receiver_phone "
    "WHEN length(receiver_phone) >= 7 THEN left(receiver_phone, 3) || '****' || right(receiver_phone, 4) "
    "ELSE '****' END",
    "address_detail": "CASE WHEN strpos(address_detail, '*') > 0 OR address_detail = '' THEN address_detail "
    "ELSE left(address_detail, 4) || '****' END",
}
BATCH = 1000


def upgrade() -> None:
    for c in COLUMNS:
        op.add_column("orders", sa.Column(f"{c}_masked", sa.Text, nullable=True))
    op.execute(f"UPDATE orders SET {', '.join(f'{c}_masked = {_MASK_SQL[c]}' for c in COLUMNS)}")
    for c in COLUMNS:
        op.alter_column("orders", f"{c}_masked", nullable=False)
    keys = os.environ.get("ORDER_BUYER_DATA_KEYS", "")
    if keys.strip():
        _seal_plain_rows(keys)


def _seal_plain_rows(keys: str) -> None:
    from omni_order.domain.buyer_data import kind, parse_key_ring

    ring = parse_key_ring(keys)  # a malformed key ring stops the migration, with the reason
    conn = op.get_bind()
    plain = " OR ".join(f"({c} NOT LIKE 'enc:v1:%' AND {c} NOT LIKE 'masked:%')" for c in COLUMNS)
    after = ""
    while True:
        found = conn.execute(
            sa.text(
                f"SELECT order_id, {', '.join(COLUMNS)} FROM orders WHERE ({plain}) AND order_id > :after "
                "ORDER BY order_id LIMIT :n"
            ),
            {"after": after, "n": BATCH},
        ).all()
        if not found:
            return
        for row in found:
            values = dict(zip(COLUMNS, row[1:], strict=True))
            sealed = {
                c: ring.seal(v, order_id=row.order_id, column=c) if kind(v) == "plain" else v
                for c, v in values.items()
            }
            conn.execute(
                sa.text(f"UPDATE orders SET {', '.join(f'{c} = :{c}' for c in COLUMNS)} WHERE order_id = :o"),
                sealed | {"o": row.order_id},
            )
        after = found[-1].order_id


def downgrade() -> None:
    # sealed values stay sealed (a downgrade does not decrypt): only the mask columns go
    for c in COLUMNS:
        op.drop_column("orders", f"{c}_masked")
