"""An in-memory product repository with the SQL one's semantics (unique codes, barcodes and channel keys;
versions stored as given), for use-case tests without I/O. `begin`/`commit`/`rollback` snapshot and restore,
as a transaction would."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Sequence
from typing import Any

from omni_contracts import utcnow
from omni_product.domain.model import ChannelListing, Material, MaterialFilters, SalesProduct
from omni_product.store import LISTING_KEY_INDEX, Duplicate, Page


class FakeRepository:
    def __init__(self) -> None:
        self.materials: dict[str, Material] = {}
        self.sales_products: dict[str, SalesProduct] = {}
        self.listings: dict[str, ChannelListing] = {}
        self.locks: list[tuple[str, str]] = []
        self._snapshot: tuple[Any, ...] | None = None

    def begin(self) -> None:
        self._snapshot = copy.deepcopy((self.materials, self.sales_products, self.listings))

    def commit(self) -> None:
        self._snapshot = None

    def rollback(self) -> None:
        assert self._snapshot is not None
        self.materials, self.sales_products, self.listings = self._snapshot
        self._snapshot = None

    async def lock(self, aggregate: str, key: str) -> None:
        self.locks.append((aggregate, key))

    @staticmethod
    def _page(items: list[Any], limit: int, offset: int) -> Page:
        return Page(items[offset : offset + limit], len(items))

    # -- materials ----------------------------------------------------------------------------------------
    async def get_material(self, code: str, *, for_update: bool = False) -> Material | None:
        return self.materials.get(code)

    async def material_with_barcode(self, barcode: str) -> str | None:
        return next((m.code for m in self.materials.values() if m.barcode == barcode), None)

    async def existing_material_codes(self, codes: Sequence[str]) -> set[str]:
        return {c for c in codes if c in self.materials}

    async def save_material(self, m: Material, *, new: bool) -> Material:
        if new and m.code in self.materials:
            raise Duplicate("materials_pkey")
        if m.barcode is not None and any(
            x.barcode == m.barcode and x.code != m.code for x in self.materials.values()
        ):
            raise Duplicate("materials_barcode_key")
        self.materials[m.code] = dataclasses.replace(m, updated_at=utcnow())
        return self.materials[m.code]

    async def list_materials(self, *, limit: int, offset: int, filters: MaterialFilters) -> Page:
        found = [m for _, m in sorted(self.materials.items()) if filters.matches(m)]
        return self._page(found, limit, offset)

    # -- sales products -----------------------------------------------------------------------------------
    async def get_sales_product(self, code: str, *, for_update: bool = False) -> SalesProduct | None:
        return self.sales_products.get(code)

    async def sales_product_kind(self, code: str) -> str | None:
        sp = self.sales_products.get(code)
        return sp.kind if sp else None

    async def sales_product_exists(self, code: str) -> bool:
        return code in self.sales_products

    async def save_sales_product(self, sp: SalesProduct, *, new: bool) -> SalesProduct:
        if new and sp.code in self.sales_products:
            raise Duplicate("sales_products_pkey")
        self.sales_products[sp.code] = dataclasses.replace(sp, updated_at=utcnow())
        return self.sales_products[sp.code]

    async def list_sales_products(
        self, *, q: str | None, kind: str | None, active: bool | None, limit: int, offset: int
    ) -> Page:
        found = [
            s
            for _, s in sorted(self.sales_products.items())
            if (not q or q.lower() in s.code.lower() or q.lower() in s.name.lower())
            and (kind is None or s.kind == kind)
            and (active is None or s.active == active)
        ]
        return self._page(found, limit, offset)

    # -- channel listings ---------------------------------------------------------------------------------
    async def get_listing(self, listing_id: str, *, for_update: bool = False) -> ChannelListing | None:
        return self.listings.get(listing_id)

    async def listing_with_key(self, key: tuple[str, str, str, str]) -> str | None:
        return next((x.listing_id for x in self.listings.values() if x.channel_key == key), None)

    async def save_listing(self, listing: ChannelListing, *, new: bool) -> ChannelListing:
        if new and listing.listing_id in self.listings:
            raise Duplicate("channel_listings_pkey")
        holder = await self.listing_with_key(listing.channel_key)
        if holder is not None and holder != listing.listing_id:
            raise Duplicate(LISTING_KEY_INDEX)
        self.listings[listing.listing_id] = dataclasses.replace(listing, updated_at=utcnow())
        return self.listings[listing.listing_id]

    async def list_listings(self, *, limit: int, offset: int, **filters: str | None) -> Page:
        found = [
            x
            for x in sorted(self.listings.values(), key=lambda x: (x.channel_key, x.listing_id))
            if all(v is None or getattr(x, k) == v for k, v in filters.items())
        ]
        return self._page(found, limit, offset)
