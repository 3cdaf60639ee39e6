"""The SQL of layers 3-4 (part of the repository, see store.py): rule sets, the node / sales product /
listing projections, the supply a computation reads, and what was last published per listing."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from omni_chassis.sqlpage import matching, page_of

from .tables_listings import (
    known_nodes,
    listing_stock,
    listings,
    rule_sets,
    sales_product_materials,
    sales_products,
)


@dataclass(frozen=True)
class RuleSetRow:
    version: int
    document: dict[str, Any]
    note: str
    created_at: datetime


@dataclass(frozen=True)
class ListingRow:
    listing_id: str
    channel: str
    shop_id: str
    channel_item_id: str
    channel_sku_id: str | None
    sales_product_code: str
    status: str
    version: int


@dataclass(frozen=True)
class PublishedRow:
    listing_id: str
    quantity: int | None
    seq: int
    rules_version: int
    computed_at: datetime | None


def _listing(r: Any) -> ListingRow:
    return ListingRow(r.listing_id, r.channel, r.shop_id, r.channel_item_id, r.channel_sku_id,
                      r.sales_product_code, r.status, r.version)  # fmt: skip


def _published(r: Any) -> PublishedRow:
    return PublishedRow(r.listing_id, r.quantity, r.seq, r.rules_version, r.computed_at)


_SUPPLY = text(
    "SELECT node_code, material_code, on_hand - reserved - frozen AS available FROM stock "
    "WHERE material_code = ANY(CAST(:mats AS text[]))"
)
_FOR_MATERIALS = text(
    "SELECT DISTINCT l.listing_id FROM listings l JOIN sales_product_materials m "
    "ON m.sales_product_code = l.sales_product_code WHERE m.material_code = ANY(CAST(:mats AS text[]))"
)
_LOCK_PUBLISHED = text(
    "SELECT listing_id, quantity, seq, rules_version, computed_at FROM listing_stock "
    'WHERE listing_id = ANY(CAST(:ids AS text[])) ORDER BY listing_id COLLATE "C" FOR UPDATE'
)
_SAVE_PUBLISHED = text(
    "UPDATE listing_stock p SET quantity = x.q, seq = x.s, rules_version = :v, computed_at = :at "
    "FROM unnest(CAST(:ids AS text[]), CAST(:qtys AS bigint[]), CAST(:seqs AS bigint[])) AS x(i, q, s) "
    "WHERE p.listing_id = x.i"
)


class ListingQueries:
    session: AsyncSession

    # -- rule sets ----------------------------------------------------------------------------------------
    async def rules_version(self) -> int:
        return (
            await self.session.execute(select(func.coalesce(func.max(rule_sets.c.version), 0)))
        ).scalar_one()

    async def get_rule_set(self, version: int) -> RuleSetRow | None:
        row = (await self.session.execute(select(rule_sets).where(rule_sets.c.version == version))).first()
        return RuleSetRow(row.version, row.document, row.note, row.created_at) if row else None

    async def add_rule_set(self, version: int, document: dict[str, Any], note: str, at: datetime) -> bool:
        """False when that version exists (another change won the race)."""
        stmt = (
            insert(rule_sets).values(version=version, document=document, note=note, created_at=at)
            .on_conflict_do_nothing(index_elements=[rule_sets.c.version]).returning(rule_sets.c.version)
        )  # fmt: skip
        return (await self.session.execute(stmt)).first() is not None

    async def list_rule_sets(self, *, limit: int, offset: int) -> tuple[list[RuleSetRow], int]:
        order = [rule_sets.c.version.desc()]
        rows, total = await page_of(self.session, rule_sets, [], order, limit=limit, offset=offset)
        return [RuleSetRow(r.version, r.document, r.note, r.created_at) for r in rows], total

    # -- what references are checked against ---------------------------------------------------------------
    async def known_node_codes(self) -> set[str]:
        rows = await self.session.execute(
            text("SELECT node_code FROM known_nodes UNION SELECT DISTINCT node_code FROM stock")
        )
        return {r[0] for r in rows}

    async def listing_channels(self) -> set[str]:
        return {r[0] for r in await self.session.execute(select(listings.c.channel).distinct())}

    async def listing_ids(self) -> set[str]:
        return {r[0] for r in await self.session.execute(select(listings.c.listing_id))}

    # -- projections --------------------------------------------------------------------------------------
    async def upsert_node(self, code: str, type_: str, active: bool, at: datetime) -> None:
        stmt = insert(known_nodes).values(node_code=code, type=type_, active=active, updated_at=at)
        stmt = stmt.on_conflict_do_update(
            index_elements=[known_nodes.c.node_code],
            set_={"type": stmt.excluded.type, "active": stmt.excluded.active, "updated_at": at},
        )
        await self.session.execute(stmt)

    async def upsert_sales_product(
        self, code: str, kind: str, active: bool, version: int, components: Sequence[tuple[str, int]]
    ) -> bool:
        """Apply a sales product when newer than the one held; False for a stale or repeated version."""
        stmt = insert(sales_products).values(code=code, kind=kind, active=active, version=version)
        stmt = stmt.on_conflict_do_update(
            index_elements=[sales_products.c.code],
            set_={"kind": kind, "active": active, "version": version},
            where=sales_products.c.version < version,
        ).returning(sales_products.c.code)
        if (await self.session.execute(stmt)).first() is None:
            return False
        await self.session.execute(
            sales_product_materials.delete().where(sales_product_materials.c.sales_product_code == code)
        )
        summed: dict[str, int] = {}
        for material, qty in components:  # the same material on two lines: one row with their sum
            summed[material] = summed.get(material, 0) + qty
        await self.session.execute(
            insert(sales_product_materials),
            [{"sales_product_code": code, "material_code": m, "qty": q} for m, q in summed.items()],
        )
        return True

    async def upsert_listing(self, row: ListingRow) -> bool:
        """Apply a listing when newer than the one held (and give it a published row); False when stale."""
        values = row.__dict__
        stmt = insert(listings).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[listings.c.listing_id],
            set_={k: v for k, v in values.items() if k != "listing_id"},
            where=listings.c.version < row.version,
        ).returning(listings.c.listing_id)
        if (await self.session.execute(stmt)).first() is None:
            return False
        await self.session.execute(
            insert(listing_stock).values(listing_id=row.listing_id).on_conflict_do_nothing()
        )
        return True

    async def listings_of_products(self, codes: Iterable[str]) -> set[str]:
        rows = await self.session.execute(
            select(listings.c.listing_id).where(listings.c.sales_product_code.in_(list(codes)))
        )
        return {r[0] for r in rows}

    async def listings_of_materials(self, materials: Iterable[str]) -> set[str]:
        return {r[0] for r in await self.session.execute(_FOR_MATERIALS, {"mats": list(materials)})}

    async def get_listings(self, ids: Iterable[str]) -> dict[str, ListingRow]:
        rows = await self.session.execute(select(listings).where(listings.c.listing_id.in_(list(ids))))
        return {r.listing_id: _listing(r) for r in rows}

    async def product_components(self, codes: Iterable[str]) -> dict[str, tuple[bool, list[tuple[str, int]]]]:
        """Per sales product: (active, its (material, qty) in material order)."""
        codes = list(codes)
        active = dict(
            (
                await self.session.execute(
                    select(sales_products.c.code, sales_products.c.active).where(
                        sales_products.c.code.in_(codes)
                    )
                )
            ).all()
        )
        parts = await self.session.execute(
            select(sales_product_materials).where(sales_product_materials.c.sales_product_code.in_(codes))
            .order_by(sales_product_materials.c.material_code)
        )  # fmt: skip
        out: dict[str, tuple[bool, list[tuple[str, int]]]] = {c: (a, []) for c, a in active.items()}
        for p in parts:
            out[p.sales_product_code][1].append((p.material_code, p.qty))
        return out

    async def supply(self, materials: Iterable[str]) -> dict[tuple[str, str], int]:
        rows = await self.session.execute(_SUPPLY, {"mats": sorted(set(materials))})
        return {(r.node_code, r.material_code): r.available for r in rows}

    # -- published numbers -----------------------------------------------------------------------------------
    async def lock_published(self, ids: Iterable[str]) -> dict[str, PublishedRow]:
        rows = await self.session.execute(_LOCK_PUBLISHED, {"ids": sorted(set(ids))})
        return {r.listing_id: _published(r) for r in rows}

    async def save_published(self, rows: Sequence[tuple[str, int, int]], version: int, at: datetime) -> None:
        """(listing, quantity, seq) for each listing whose number changed."""
        if rows:
            await self.session.execute(_SAVE_PUBLISHED, {
                "ids": [r[0] for r in rows], "qtys": [r[1] for r in rows], "seqs": [r[2] for r in rows],
                "v": version, "at": at,
            })  # fmt: skip

    async def get_published(self, listing_id: str) -> PublishedRow | None:
        row = (
            await self.session.execute(select(listing_stock).where(listing_stock.c.listing_id == listing_id))
        ).first()
        return _published(row) if row else None

    async def list_published(
        self, *, channel: str | None, shop_id: str | None, limit: int, offset: int
    ) -> tuple[list[tuple[ListingRow, PublishedRow]], int]:
        conds = matching((listings.c.channel, channel), (listings.c.shop_id, shop_id))
        j = listings.join(listing_stock, listing_stock.c.listing_id == listings.c.listing_id)
        cols = [listings, listing_stock.c.quantity, listing_stock.c.seq, listing_stock.c.rules_version,
                listing_stock.c.computed_at]  # fmt: skip
        order = [listings.c.listing_id]
        rows, total = await page_of(self.session, j, conds, order, limit=limit, offset=offset, columns=cols)
        return [(_listing(r), _published(r)) for r in rows], total
