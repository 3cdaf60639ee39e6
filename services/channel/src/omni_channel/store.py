"""Tables and the repository: the only place that knows SQL. `Repository(session)` is bound to one unit of
work."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Table,
    Text,
    func,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import UUID, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import registry
from sqlmodel import SQLModel


class Base(SQLModel, registry=registry()):
    """This service's own metadata (never SQLModel's global one: services share a test process)."""


metadata = Base.metadata

shops = Table(
    "shops",
    metadata,
    Column("channel", Text, nullable=False),
    Column("shop_id", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("app_key", Text, nullable=False),
    Column("secret", Text, nullable=False),  # write-only: never selected into an answer or a log
    Column("active", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("channel", "shop_id", name="shops_pk"),
)

# One row per distinct delivery (same channel order, same payload bytes): repeats bump `deliveries`.
received_orders = Table(
    "received_orders",
    metadata,
    Column("channel", Text, nullable=False),
    Column("channel_order_id", Text, nullable=False),
    Column("payload_sha256", Text, nullable=False),
    Column("shop_id", Text, nullable=False),
    Column("channel_status", Text, nullable=False),
    Column("outcome", Text, nullable=False),  # published | ignored
    Column("reason", Text, nullable=True),  # why it was ignored
    Column("event_id", UUID(as_uuid=True), nullable=True),  # the last event published for it
    Column("deliveries", Integer, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("last_received_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("channel", "channel_order_id", "payload_sha256", name="received_orders_pk"),
    CheckConstraint("outcome IN ('published', 'ignored')", name="received_orders_outcome"),
    Index("received_orders_by_time", "last_received_at"),
)

SHOP_VIEW = (shops.c.channel, shops.c.shop_id, shops.c.name, shops.c.app_key, shops.c.active,
             shops.c.created_at, shops.c.updated_at)  # fmt: skip


@dataclass(frozen=True)
class ShopCredentials:
    channel: str
    shop_id: str
    app_key: str
    secret: str
    active: bool

    def __repr__(self) -> str:  # keep the secret out of tracebacks and debug output
        return f"ShopCredentials({self.channel}/{self.shop_id}, app_key={self.app_key}, active={self.active})"


class Repository:
    """The channel adapters' SQL, bound to a unit of work's session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def upsert_shop(
        self, *, channel: str, shop_id: str, name: str, app_key: str, secret: str, active: bool
    ) -> tuple[dict, bool]:
        """Create or replace a shop. Returns its public view and whether it was created."""
        stmt = insert(shops).values(
            channel=channel, shop_id=shop_id, name=name, app_key=app_key, secret=secret, active=active
        )
        stmt = stmt.on_conflict_do_update(
            constraint="shops_pk",
            set_={
                "name": name,
                "app_key": app_key,
                "secret": secret,
                "active": active,
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
        row = (
            await self.session.execute(
                select(
                    shops.c.channel, shops.c.shop_id, shops.c.app_key, shops.c.secret, shops.c.active
                ).where(shops.c.channel == channel, shops.c.shop_id == shop_id)
            )
        ).one_or_none()
        return ShopCredentials(*row) if row else None

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
