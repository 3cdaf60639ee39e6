"""The repository: the only place that knows SQL. `Repository(session)` is bound to one unit of work.

A unique constraint broken by a concurrent writer comes out of a save as `Duplicate(constraint)`: the use case
says which clash it was, in a sentence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from .domain.model import ChannelListing, Component, Material, MaterialFilters, SalesProduct
from .tables import (
    LISTING_KEY_INDEX,
    Base,
    channel_listings,
    materials,
    metadata,
    sales_product_components,
    sales_products,
)

__all__ = ["LISTING_KEY_INDEX", "Base", "Duplicate", "Page", "Repository", "metadata"]


class Duplicate(Exception):
    """A write broke the unique constraint `constraint` (a concurrent writer got there first)."""

    def __init__(self, constraint: str | None) -> None:
        super().__init__(f"unique constraint {constraint} violated")
        self.constraint = constraint


@dataclass(frozen=True)
class Page:
    items: list[Any]
    total: int


def violated_constraint(exc: IntegrityError) -> str | None:
    """The name of the constraint an IntegrityError broke (asyncpg tells it), if known."""
    for err in (exc.orig, getattr(exc.orig, "__cause__", None)):
        name = getattr(err, "constraint_name", None)
        if name:
            return str(name)
    return None


def _utc(ts: datetime | None) -> datetime | None:
    return ts.astimezone(UTC) if ts is not None else None


def _escape_like(q: str) -> str:
    return q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _contains(column: Any, q: str) -> Any:
    return column.ilike(f"%{_escape_like(q)}%", escape="\\")


def _material(row: Any) -> Material:
    return Material(
        code=row["code"],
        name=row["name"],
        barcode=row["barcode"],
        unit=row["unit"],
        weight_g=row["weight_g"],
        high_value=row["high_value"],
        active=row["active"],
        category=row["category"],
        tags=frozenset(row["tags"]),
        handling=row["handling"],
        tax_rate_bp=row["tax_rate_bp"],
        version=row["version"],
        updated_at=_utc(row["updated_at"]),
    )


def _material_values(m: Material) -> dict[str, Any]:
    return {
        "name": m.name,
        "barcode": m.barcode,
        "unit": m.unit,
        "weight_g": m.weight_g,
        "high_value": m.high_value,
        "active": m.active,
        "category": m.category,
        "tags": sorted(m.tags),
        "handling": m.handling,
        "tax_rate_bp": m.tax_rate_bp,
        "version": m.version,
    }


def _in_category(column: Any, category: str) -> Any:
    """As `domain.model.in_category`: the category itself or anything under it (whole segments)."""
    return or_(column == category, column.like(f"{_escape_like(category)}/%", escape="\\"))


def _sales_product(row: Any, components: tuple[Component, ...]) -> SalesProduct:
    return SalesProduct(
        code=row["code"],
        name=row["name"],
        kind=row["kind"],
        components=components,
        active=row["active"],
        version=row["version"],
        updated_at=_utc(row["updated_at"]),
    )


_LISTING_FIELDS = (
    "channel",
    "shop_id",
    "channel_item_id",
    "channel_sku_id",
    "outer_id",
    "sales_product_code",
    "price_cents",
    "currency",
    "status",
    "version",
)


def _listing(row: Any) -> ChannelListing:
    return ChannelListing(
        listing_id=row["listing_id"],
        **{f: row[f] for f in _LISTING_FIELDS},
        updated_at=_utc(row["updated_at"]),
    )


class Repository:
    """The product service's SQL, bound to a unit of work's session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock(self, aggregate: str, key: str) -> None:
        """Serialize writers of one aggregate (even one not created yet) until the transaction ends."""
        await self.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"),
            {"k": f"omni-product:{aggregate}:{key}"},
        )

    async def _write(self, stmt: Any) -> Any:
        """Execute a write; a broken unique constraint becomes Duplicate(constraint)."""
        try:
            return await self.session.execute(stmt)
        except IntegrityError as exc:
            name = violated_constraint(exc)
            if name is None:
                raise
            raise Duplicate(name) from exc

    async def _page(self, query: Any, order_by: Sequence[Any], limit: int, offset: int) -> Page:
        total = (await self.session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
        rows = (
            (await self.session.execute(query.order_by(*order_by).limit(limit).offset(offset)))
            .mappings()
            .all()
        )
        return Page(list(rows), total)

    # --- materials -------------------------------------------------------------------------------

    async def get_material(self, code: str, *, for_update: bool = False) -> Material | None:
        query = select(materials).where(materials.c.code == code)
        if for_update:
            query = query.with_for_update()
        row = (await self.session.execute(query)).mappings().first()
        return _material(row) if row else None

    async def material_with_barcode(self, barcode: str) -> str | None:
        """The code of the material that has `barcode`, if any."""
        return (
            await self.session.execute(select(materials.c.code).where(materials.c.barcode == barcode))
        ).scalar_one_or_none()

    async def existing_material_codes(self, codes: Sequence[str]) -> set[str]:
        if not codes:
            return set()
        rows = await self.session.execute(select(materials.c.code).where(materials.c.code.in_(list(codes))))
        return set(rows.scalars())

    async def save_material(self, m: Material, *, new: bool) -> Material:
        """Insert or update; returns the stored material (with its updated_at)."""
        if new:
            stmt = insert(materials).values(code=m.code, **_material_values(m)).returning(materials)
        else:
            stmt = (
                update(materials)
                .where(materials.c.code == m.code)
                .values(**_material_values(m), updated_at=func.now())
                .returning(materials)
            )
        return _material((await self._write(stmt)).mappings().one())

    async def list_materials(self, *, limit: int, offset: int, filters: MaterialFilters) -> Page:
        query = select(materials)
        f = filters
        if f.q:
            query = query.where(or_(_contains(materials.c.code, f.q), _contains(materials.c.name, f.q)))
        if f.active is not None:
            query = query.where(materials.c.active == f.active)
        if f.category:
            query = query.where(_in_category(materials.c.category, f.category))
        if f.tag:
            query = query.where(materials.c.tags.contains([f.tag]))
        if f.handling:
            query = query.where(materials.c.handling == f.handling)
        page = await self._page(query, [materials.c.code], limit, offset)
        return Page([_material(r) for r in page.items], page.total)

    # --- sales products --------------------------------------------------------------------------

    async def _components(self, codes: Sequence[str]) -> dict[str, tuple[Component, ...]]:
        if not codes:
            return {}
        rows = await self.session.execute(
            select(sales_product_components)
            .where(sales_product_components.c.sales_product_code.in_(list(codes)))
            .order_by(sales_product_components.c.sales_product_code, sales_product_components.c.position)
        )
        out: dict[str, list[Component]] = {}
        for r in rows.mappings():
            out.setdefault(r["sales_product_code"], []).append(
                Component(material_code=r["material_code"], qty=r["qty"], price_weight=r["price_weight"])
            )
        return {code: tuple(cs) for code, cs in out.items()}

    async def get_sales_product(self, code: str, *, for_update: bool = False) -> SalesProduct | None:
        query = select(sales_products).where(sales_products.c.code == code)
        if for_update:
            query = query.with_for_update()
        row = (await self.session.execute(query)).mappings().first()
        if row is None:
            return None
        return _sales_product(row, (await self._components([code])).get(code, ()))

    async def sales_product_kind(self, code: str) -> str | None:
        return (
            await self.session.execute(select(sales_products.c.kind).where(sales_products.c.code == code))
        ).scalar_one_or_none()

    async def sales_product_exists(self, code: str) -> bool:
        return await self.sales_product_kind(code) is not None

    async def save_sales_product(self, sp: SalesProduct, *, new: bool) -> SalesProduct:
        """Insert or update the head row and replace its components (in order)."""
        values = {"name": sp.name, "kind": sp.kind, "active": sp.active, "version": sp.version}
        if new:
            stmt = insert(sales_products).values(code=sp.code, **values).returning(sales_products)
        else:
            stmt = (
                update(sales_products)
                .where(sales_products.c.code == sp.code)
                .values(**values, updated_at=func.now())
                .returning(sales_products)
            )
        row = (await self._write(stmt)).mappings().one()
        if not new:
            await self.session.execute(
                delete(sales_product_components).where(
                    sales_product_components.c.sales_product_code == sp.code
                )
            )
        await self.session.execute(
            insert(sales_product_components),
            [
                {
                    "sales_product_code": sp.code,
                    "position": i,
                    "material_code": c.material_code,
                    "qty": c.qty,
                    "price_weight": c.price_weight,
                }
                for i, c in enumerate(sp.components)
            ],
        )
        return _sales_product(row, sp.components)

    async def list_sales_products(
        self, *, q: str | None, kind: str | None, active: bool | None, limit: int, offset: int
    ) -> Page:
        query = select(sales_products)
        if q:
            query = query.where(or_(_contains(sales_products.c.code, q), _contains(sales_products.c.name, q)))
        if kind is not None:
            query = query.where(sales_products.c.kind == kind)
        if active is not None:
            query = query.where(sales_products.c.active == active)
        page = await self._page(query, [sales_products.c.code], limit, offset)
        comps = await self._components([r["code"] for r in page.items])
        return Page([_sales_product(r, comps.get(r["code"], ())) for r in page.items], page.total)

    # --- channel listings ------------------------------------------------------------------------

    async def get_listing(self, listing_id: str, *, for_update: bool = False) -> ChannelListing | None:
        query = select(channel_listings).where(channel_listings.c.listing_id == listing_id)
        if for_update:
            query = query.with_for_update()
        row = (await self.session.execute(query)).mappings().first()
        return _listing(row) if row else None

    async def listing_with_key(self, key: tuple[str, str, str, str]) -> str | None:
        """The listing id that holds the channel key (channel, shop, item, sku or ''), if any."""
        channel, shop_id, item, sku = key
        c = channel_listings.c
        query = select(c.listing_id).where(
            c.channel == channel,
            c.shop_id == shop_id,
            c.channel_item_id == item,
            func.coalesce(c.channel_sku_id, "") == sku,
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def save_listing(self, listing: ChannelListing, *, new: bool) -> ChannelListing:
        values = {f: getattr(listing, f) for f in _LISTING_FIELDS}
        if new:
            stmt = insert(channel_listings).values(listing_id=listing.listing_id, **values)
        else:
            stmt = (
                update(channel_listings)
                .where(channel_listings.c.listing_id == listing.listing_id)
                .values(**values, updated_at=func.now())
            )
        return _listing((await self._write(stmt.returning(channel_listings))).mappings().one())

    async def list_listings(
        self,
        *,
        channel: str | None,
        shop_id: str | None,
        sales_product_code: str | None,
        status: str | None,
        channel_item_id: str | None,
        outer_id: str | None,
        limit: int,
        offset: int,
    ) -> Page:
        c = channel_listings.c
        query = select(channel_listings)
        filters = [
            (c.channel, channel),
            (c.shop_id, shop_id),
            (c.sales_product_code, sales_product_code),
            (c.status, status),
            (c.channel_item_id, channel_item_id),
            (c.outer_id, outer_id),
        ]
        for column, value in filters:
            if value is not None:
                query = query.where(column == value)
        order = [c.channel, c.shop_id, c.channel_item_id, c.channel_sku_id.nulls_first(), c.listing_id]
        page = await self._page(query, order, limit, offset)
        return Page([_listing(r) for r in page.items], page.total)
