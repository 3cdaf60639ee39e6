"""The POS intake's SQL (part of the repository, see store.py): the store config of a POS shop, the projection
of product's POS listings, and the received_orders lookup that makes a sale uid count once."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from .tables import received_orders
from .tables_pos import pos_listings, pos_stores

L = pos_listings.c
_LOCK = text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))")


class PosQueries:
    session: AsyncSession

    async def upsert_pos_store(
        self, shop_id: str, node_code: str, payment_methods: dict[str, str], now: datetime
    ) -> dict[str, Any]:
        stmt = insert(pos_stores).values(
            shop_id=shop_id,
            node_code=node_code,
            payment_methods=payment_methods,
            created_at=now,
            updated_at=now,
        )
        stmt = stmt.on_conflict_do_update(
            constraint="pos_stores_pk",
            set_={"node_code": node_code, "payment_methods": payment_methods, "updated_at": now},
        ).returning(*pos_stores.c)
        return dict((await self.session.execute(stmt)).mappings().one())

    async def get_pos_store(self, shop_id: str) -> dict[str, Any] | None:
        row = (
            (await self.session.execute(select(pos_stores).where(pos_stores.c.shop_id == shop_id)))
            .mappings()
            .first()
        )
        return dict(row) if row else None

    async def upsert_pos_listings(self, rows: list[dict[str, Any]]) -> None:
        """Newest version per listing wins; an older or repeated one changes nothing."""
        if not rows:
            return
        stmt = insert(pos_listings).values(rows)
        stmt = stmt.on_conflict_do_update(
            constraint="pos_listings_listing",
            set_={
                c: stmt.excluded[c]
                for c in ("shop_id", "pos_product_id", "outer_id", "sales_product_code", "on_sale", "version")
            },
            where=L.version < stmt.excluded.version,
        )
        await self.session.execute(stmt)

    async def pos_listings_of(
        self, shop_id: str, product_ids: Iterable[str], codes: Iterable[str]
    ) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
        """The shop's POS listings by till product id, and by outer id (default_code)."""
        ids, outer = sorted(set(product_ids)), sorted(set(codes))
        rows = (
            (
                await self.session.execute(
                    select(pos_listings).where(
                        L.shop_id == shop_id, or_(L.pos_product_id.in_(ids), L.outer_id.in_(outer))
                    )
                )
            )
            .mappings()
            .all()
        )
        by_id = {r["pos_product_id"]: dict(r) for r in rows}
        by_code = {r["outer_id"]: dict(r) for r in rows if r["outer_id"]}
        return by_id, by_code

    async def pos_sale_seen(self, channel_order_id: str) -> bool:
        """Was a store sale with this id (`<shop>:<uid>`) already published? Serialises the calls that carry
        the same sale until the commit (a transaction-level advisory lock), so a sale the till sends twice at
        once is published once: the second call waits, then sees the first's receipt."""
        await self.session.execute(_LOCK, {"k": f"pos-sale:{channel_order_id}"})
        found = await self.session.execute(
            select(received_orders.c.event_id)
            .where(
                received_orders.c.channel == "pos",
                received_orders.c.channel_order_id == channel_order_id,
                received_orders.c.outcome == "published",
            )
            .limit(1)
        )
        return found.first() is not None
