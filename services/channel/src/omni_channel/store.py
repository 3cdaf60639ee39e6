"""Tables and the repository: the only place that knows SQL. `Repository(session)` is bound to one unit of
work."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, literal_column, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from . import (
    credentials,
    tables_aftersales,  # noqa: F401  (its table in the metadata the migrations are checked against)
)
from .credentials import Sealed
from .store_aftersales import AfterSalesQueries
from .store_pos import PosQueries
from .store_pull import PullQueries
from .store_push import PushQueries
from .store_writeback import WritebackQueries
from .tables import Base, metadata, received_orders, shops

__all__ = ["Base", "Repository", "ShopCredentials", "metadata"]

SHOP_VIEW = (shops.c.channel, shops.c.shop_id, shops.c.name, shops.c.app_key, shops.c.active,
             shops.c.created_at, shops.c.updated_at, shops.c.credentials_error, shops.c.credentials_error_at,
             shops.c.session_key.is_not(None).label("has_session_key"),
             shops.c.refresh_token.is_not(None).label("has_refresh_token"),
             shops.c.accepts_on_account)  # fmt: skip


@dataclass(frozen=True)
class ShopCredentials:
    channel: str
    shop_id: str
    app_key: str
    secret: str | Sealed  # Sealed as read from the table: credentials.reveal() decrypts it where it signs
    active: bool
    session_key: str | Sealed | None = None
    credentials_error: str | None = None
    refresh_token: str | Sealed | None = None
    accepts_on_account: bool = False  # B2B: orders on credit terms are taken in (1688 period / creditBuy)

    def __repr__(self) -> str:  # keep the secret and the session key out of tracebacks and debug output
        return f"ShopCredentials({self.channel}/{self.shop_id}, app_key={self.app_key}, active={self.active})"


class Repository(PushQueries, WritebackQueries, PullQueries, PosQueries, AfterSalesQueries):
    """The channel adapters' SQL, bound to a unit of work's session (the push status's in store_push.py)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def upsert_shop(
        self,
        *,
        channel: str,
        shop_id: str,
        name: str,
        app_key: str,
        secret: str,
        active: bool,
        session_key: str | None = None,
        refresh_token: str | None = None,
        accepts_on_account: bool = False,
    ) -> tuple[dict, bool]:
        """Create or replace a shop (a session key or refresh token not given keeps the one held; a refusal
        of the shop's credentials is cleared; `accepts_on_account` is replaced like `active`). The secret and
        tokens are stored encrypted (credentials.py). Returns its public view and whether it was created."""
        v = credentials.vault()
        stmt = insert(shops).values(
            channel=channel,
            shop_id=shop_id,
            name=name,
            app_key=app_key,
            secret=v.seal(secret),
            active=active,
            session_key=v.seal(session_key) if session_key is not None else None,
            refresh_token=v.seal(refresh_token) if refresh_token is not None else None,
            accepts_on_account=accepts_on_account,
        )
        stmt = stmt.on_conflict_do_update(
            constraint="shops_pk",
            set_={
                "name": name,
                "app_key": app_key,
                "secret": stmt.excluded.secret,
                "active": active,
                "accepts_on_account": accepts_on_account,
                "session_key": func.coalesce(stmt.excluded.session_key, shops.c.session_key),
                "refresh_token": func.coalesce(stmt.excluded.refresh_token, shops.c.refresh_token),
                "credentials_error": None,
                "credentials_error_at": None,
                "updated_at": func.now(),
            },
        ).returning(*SHOP_VIEW, literal_column("(xmax = 0)").label("created"))  # xmax 0: inserted
        row = (await self.session.execute(stmt)).mappings().one()
        view = {k: row[k] for k in row.keys() if k != "created"}
        return view, bool(row["created"])

    async def get_shop(self, channel: str, shop_id: str) -> dict | None:
        row = (
            (
                await self.session.execute(
                    select(*SHOP_VIEW).where(shops.c.channel == channel, shops.c.shop_id == shop_id)
                )
            )
            .mappings()
            .one_or_none()
        )
        return dict(row) if row else None

    async def list_shops(
        self, *, channel: str | None, active: bool | None, limit: int, offset: int
    ) -> tuple[list[dict], int]:
        conds = []
        if channel is not None:
            conds.append(shops.c.channel == channel)
        if active is not None:
            conds.append(shops.c.active == active)
        total = (
            await self.session.execute(select(func.count()).select_from(shops).where(*conds))
        ).scalar_one()
        rows = (
            await self.session.execute(
                select(*SHOP_VIEW)
                .where(*conds)
                .order_by(shops.c.channel, shops.c.shop_id)
                .limit(limit)
                .offset(offset)
            )
        ).mappings()
        return [dict(r) for r in rows], total

    async def shop_credentials(self, channel: str, shop_id: str) -> ShopCredentials | None:
        found = await self.shops_credentials([(channel, shop_id)])
        return found.get((channel, shop_id))

    async def shops_credentials(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], ShopCredentials]:
        """The credentials of the shops `keys` names ((channel, shop_id) pairs) that exist, still sealed."""
        if not keys:
            return {}
        cols = (shops.c.channel, shops.c.shop_id, shops.c.app_key, shops.c.secret, shops.c.active,
                shops.c.session_key, shops.c.credentials_error, shops.c.refresh_token,
                shops.c.accepts_on_account)  # fmt: skip
        pairs = sorted(set(keys))
        rows = await self.session.execute(
            select(*cols).where(tuple_(shops.c.channel, shops.c.shop_id).in_(pairs))
        )
        v = credentials.vault()

        def sealed(token: str | None) -> Sealed | None:
            return Sealed(token, v) if token is not None else None

        return {
            (r[0], r[1]): ShopCredentials(
                r[0], r[1], r[2], Sealed(r[3], v), r[4], sealed(r[5]), r[6], sealed(r[7]), r[8]
            )
            for r in rows
        }

    async def rotate_shop_keys(self, vault: credentials.Vault) -> int:
        """Re-encrypt every shop's secret and tokens under `vault`'s first key (rows locked). Returns how
        many shops were rewritten."""
        c = shops.c
        rows = (
            await self.session.execute(
                select(c.channel, c.shop_id, c.secret, c.session_key, c.refresh_token)
                .order_by(c.channel, c.shop_id)
                .with_for_update()
            )
        ).all()
        for r in rows:
            values = {
                name: vault.rotate(value) if vault.is_sealed(value) else vault.seal(value)
                for name, value in (("secret", r.secret), ("session_key", r.session_key),
                                    ("refresh_token", r.refresh_token))
                if value is not None
            }  # fmt: skip
            await self.session.execute(
                update(shops).where(c.channel == r.channel, c.shop_id == r.shop_id).values(**values)
            )
        return len(rows)

    async def record_receipt(
        self,
        *,
        channel: str,
        channel_order_id: str,
        payload_sha256: str,
        shop_id: str,
        channel_status: str,
        outcome: str,
        reason: str | None,
        event_id: uuid.UUID | None,
        now: datetime,
    ) -> int:
        """Record one delivery; a repeat of the same payload bumps the count. Returns the delivery count."""
        stmt = insert(received_orders).values(
            channel=channel,
            channel_order_id=channel_order_id,
            payload_sha256=payload_sha256,
            shop_id=shop_id,
            channel_status=channel_status,
            outcome=outcome,
            reason=reason,
            event_id=event_id,
            deliveries=1,
            received_at=now,
            last_received_at=now,
        )
        stmt = stmt.on_conflict_do_update(
            constraint="received_orders_pk",
            set_={
                "deliveries": received_orders.c.deliveries + 1,
                "last_received_at": stmt.excluded.last_received_at,
                "event_id": stmt.excluded.event_id,
                "outcome": stmt.excluded.outcome,
                "reason": stmt.excluded.reason,
            },
        ).returning(received_orders.c.deliveries)
        return (await self.session.execute(stmt)).scalar_one()

    async def list_receipts(
        self,
        *,
        channel: str | None,
        shop_id: str | None,
        channel_order_id: str | None,
        limit: int,
        offset: int,
    ) -> tuple[list[dict], int]:
        conds = []
        if channel is not None:
            conds.append(received_orders.c.channel == channel)
        if shop_id is not None:
            conds.append(received_orders.c.shop_id == shop_id)
        if channel_order_id is not None:
            conds.append(received_orders.c.channel_order_id == channel_order_id)
        total = (
            await self.session.execute(select(func.count()).select_from(received_orders).where(*conds))
        ).scalar_one()
        rows = (
            await self.session.execute(
                select(received_orders)
                .where(*conds)
                .order_by(received_orders.c.last_received_at.desc(), received_orders.c.channel_order_id)
                .limit(limit)
                .offset(offset)
            )
        ).mappings()
        return [dict(r) for r in rows], total
