"""The repository's catalog projection queries (a mixin of `store.Repository`; SQL only): the versioned
upserts of product's materials, sales products and listings, and the reads intake and the API make."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Table, or_, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from omni_contracts.bundles import Component

from .domain.intake import Catalog, Listing, Material, SalesProduct
from .tables import channel_listings, materials, sales_product_components, sales_products


def newest(rows: Iterable[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """One row per key: the highest version (one statement cannot upsert the same row twice)."""
    best: dict[Any, dict[str, Any]] = {}
    for r in rows:
        cur = best.get(r[key])
        if cur is None or r["version"] > cur["version"]:
            best[r[key]] = r
    return list(best.values())


class CatalogQueries:
    session: AsyncSession

    # -- catalog projection: versioned upserts -----------------------------------------------------------
    async def _upsert_versioned(self, table: Table, key: str, rows: list[dict[str, Any]]) -> list[str]:
        """Insert, or update only when the incoming version is newer. Returns the keys actually written."""
        if not rows:
            return []
        stmt = insert(table)
        cols = [c.name for c in table.columns if c.name != key]
        stmt = stmt.on_conflict_do_update(
            index_elements=[key],
            set_={c: stmt.excluded[c] for c in cols},
            where=table.c.version < stmt.excluded.version,
        ).returning(table.c[key])
        result = await self.session.execute(stmt, rows)
        return [r[0] for r in result]

    async def upsert_materials(self, rows: list[dict[str, Any]]) -> list[str]:
        return await self._upsert_versioned(materials, "code", newest(rows, "code"))

    async def upsert_listings(self, rows: list[dict[str, Any]]) -> list[str]:
        return await self._upsert_versioned(channel_listings, "listing_id", newest(rows, "listing_id"))

    async def upsert_sales_products(self, rows: list[dict[str, Any]]) -> list[str]:
        """Rows carry `components` (dicts, in order); they are replaced when the product is written."""
        rows = newest(rows, "code")
        heads = [{k: v for k, v in r.items() if k != "components"} for r in rows]
        written = set(await self._upsert_versioned(sales_products, "code", heads))
        if not written:
            return []
        spc = sales_product_components
        await self.session.execute(spc.delete().where(spc.c.sales_product_code.in_(written)))
        comps = [
            {"sales_product_code": r["code"], "position": i, **c}
            for r in rows
            if r["code"] in written
            for i, c in enumerate(r["components"], start=1)
        ]
        if comps:
            await self.session.execute(insert(spc), comps)
        return sorted(written)

    async def load_catalog(
        self, shops: set[tuple[str, str]], item_ids: set[str], outer_ids: set[str]
    ) -> Catalog:
        """The listings an intake batch may need, their sales products and materials: three queries."""
        if not shops:
            return Catalog()
        lt = channel_listings
        cond = lt.c.channel_item_id.in_(item_ids)
        if outer_ids:
            cond = or_(cond, lt.c.outer_id.in_(outer_ids))
        rows = (
            await self.session.execute(select(lt).where(tuple_(lt.c.channel, lt.c.shop_id).in_(shops), cond))
        ).all()
        listings = [
            Listing(r.listing_id, r.channel, r.shop_id, r.channel_item_id, r.channel_sku_id, r.outer_id,
                    r.sales_product_code, r.status, r.price_cents)
            for r in rows
        ]  # fmt: skip
        codes = {x.sales_product_code for x in listings}
        products: list[SalesProduct] = []
        material_codes: set[str] = set()
        if codes:
            sp, spc = sales_products, sales_product_components
            prow = (
                await self.session.execute(
                    select(
                        sp.c.code, sp.c.name, sp.c.active, spc.c.material_code, spc.c.qty, spc.c.price_weight
                    )
                    .join(spc, spc.c.sales_product_code == sp.c.code, isouter=True)
                    .where(sp.c.code.in_(codes))
                    .order_by(sp.c.code, spc.c.position)
                )
            ).all()
            grouped: dict[str, tuple[str, bool, list[Component]]] = {}
            for r in prow:
                head = grouped.setdefault(r.code, (r.name, r.active, []))
                if r.material_code is not None:
                    head[2].append(Component(r.material_code, r.qty, r.price_weight))
                    material_codes.add(r.material_code)
            products = [SalesProduct(c, n, a, tuple(comps)) for c, (n, a, comps) in grouped.items()]
        mats: list[Material] = []
        if material_codes:
            mrow = (
                await self.session.execute(select(materials).where(materials.c.code.in_(material_codes)))
            ).all()
            mats = [
                Material(r.code, r.active, r.category, frozenset(r.tags), r.handling, r.weight_g,
                         r.high_value, r.tax_rate_bp)
                for r in mrow
            ]  # fmt: skip
        return Catalog(listings, products, mats)

    async def get_listing(self, listing_id: str) -> dict[str, Any] | None:
        t = channel_listings
        row = (await self.session.execute(select(t).where(t.c.listing_id == listing_id))).mappings().first()
        return dict(row) if row else None

    async def get_material(self, code: str) -> dict[str, Any] | None:
        t = materials
        row = (await self.session.execute(select(t).where(t.c.code == code))).mappings().first()
        return dict(row) if row else None
