"""shop credentials encrypted at rest: shops.refresh_token; every plaintext secret and session key encrypted

The key is the service's (OMNI_CHANNEL_CREDENTIALS_KEY / _FILE, credentials.py; the dev key when unset).
A value already encrypted under one of the keys is left as it is, so running this again changes nothing;
a value encrypted under an unknown key stops the migration with a clear error (never encrypted twice).
Downgrade decrypts them back to plaintext.

Revision ID: channel0003
Revises: channel0002
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

from omni_channel import credentials

revision = "channel0003"
down_revision = "channel0002"
branch_labels = None
depends_on = None

COLUMNS = ("secret", "session_key", "refresh_token")


def _rewrite(change) -> None:  # type: ignore[no-untyped-def]
    conn = op.get_bind()
    rows = conn.execute(
        sa.text("SELECT channel, shop_id, secret, session_key, refresh_token FROM shops FOR UPDATE")
    ).all()
    for r in rows:
        values = {c: change(getattr(r, c)) for c in COLUMNS if getattr(r, c) is not None}
        values = {c: v for c, v in values.items() if v is not None}
        if values:
            sets = ", ".join(f"{c} = :{c}" for c in values)
            conn.execute(
                sa.text(f"UPDATE shops SET {sets} WHERE channel = :ch AND shop_id = :sh"),
                {**values, "ch": r.channel, "sh": r.shop_id},
            )


def upgrade() -> None:
    op.add_column("shops", sa.Column("refresh_token", sa.Text, nullable=True))
    vault = credentials.load()
    _rewrite(lambda v: None if vault.is_sealed(v) else vault.seal(v))


def downgrade() -> None:
    vault = credentials.load()
    _rewrite(lambda v: vault.open(v) if vault.is_sealed(v) else None)
    op.drop_column("shops", "refresh_token")
