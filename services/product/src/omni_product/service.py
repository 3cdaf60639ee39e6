"""Use cases: the one place that orchestrates domain, repository and outbox, each in a unit of work.

Every write runs in one unit of work (`async with uow:`): the row and its event (`uow.emit`) commit together,
or neither does. A write that changes nothing (an identical PUT) stores nothing and emits nothing. Writers
of one aggregate are serialized by an advisory lock on its key (`repo.lock`), even before it exists.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Generic, TypeVar

from omni_chassis.logging import get_logger
from omni_chassis.uow import UnitOfWork
from omni_contracts.bundles import MaterialLine

from .domain import events
from .domain.model import (
    ChannelListing,
    Conflict,
    Material,
    MaterialFilters,
    NotFound,
    SalesProduct,
    check_channel_key_free,
    check_listing,
    check_material,
    check_material_code_free,
    check_sales_product,
    decompose,
    revise,
)
from .store import LISTING_KEY_INDEX, Duplicate, Page, Repository

log = get_logger(__name__)

T = TypeVar("T", Material, SalesProduct, ChannelListing)
Uow = UnitOfWork[Repository]


@dataclass(frozen=True)
class Written(Generic[T]):
    """The stored aggregate after a write; `created` (new) and `changed` (a version was written)."""

    entity: T
    created: bool
    changed: bool


def _integrity_conflict(exc: Duplicate, what: str) -> Conflict:
    """A unique constraint broken by a concurrent writer, as a 409 sentence; others are not ours to map."""
    name = exc.constraint
    messages = {
        "materials_pkey": f"material {what} already exists",
        "materials_barcode_key": f"the barcode of material {what} already belongs to another material",
        "sales_products_pkey": f"sales product {what} already exists",
        "channel_listings_pkey": f"channel listing {what} already exists",
        LISTING_KEY_INDEX: f"the channel item/sku of listing {what} is already listed",
    }
    if name not in messages:
        raise exc
    return Conflict(messages[name])


# --- materials -----------------------------------------------------------------------------------


async def create_material(uow: Uow, m: Material) -> Material:
    """Create a new material (409 when the code exists)."""
    check_material(m)
    async with uow:
        await uow.repo.lock("material", m.code)
        if await uow.repo.get_material(m.code) is not None:
            raise Conflict(f"material {m.code} already exists")
        return (await _write_material(uow, None, m)).entity


async def put_material(uow: Uow, m: Material) -> Written[Material]:
    """Create or replace a material; an identical write changes nothing."""
    check_material(m)
    async with uow:
        await uow.repo.lock("material", m.code)
        current = await uow.repo.get_material(m.code, for_update=True)
        return await _write_material(uow, current, m)


async def _write_material(uow: Uow, current: Material | None, proposed: Material) -> Written[Material]:
    revised = revise(current, proposed)
    if revised is None:
        assert current is not None
        return Written(current, created=False, changed=False)
    if current is None:
        check_material_code_free(revised.code, await uow.repo.sales_product_kind(revised.code))
    if revised.barcode is not None:
        holder = await uow.repo.material_with_barcode(revised.barcode)
        if holder is not None and holder != revised.code:
            raise Conflict(f"barcode {revised.barcode} already belongs to material {holder}")
    try:
        stored = await uow.repo.save_material(revised, new=current is None)
    except Duplicate as exc:
        raise _integrity_conflict(exc, revised.code) from exc
    event, key = events.material_upserted(stored)
    uow.emit(event, key=key)
    log.info("material upserted", code=stored.code, version=stored.version)
    return Written(stored, created=current is None, changed=True)


async def get_material(uow: Uow, code: str) -> Material:
    async with uow:
        m = await uow.repo.get_material(code)
    if m is None:
        raise NotFound(f"material {code} does not exist")
    return m


async def list_materials(uow: Uow, filters: MaterialFilters, *, limit: int, offset: int) -> Page:
    async with uow:
        return await uow.repo.list_materials(limit=limit, offset=offset, filters=filters)


# --- sales products ------------------------------------------------------------------------------


async def create_sales_product(uow: Uow, sp: SalesProduct) -> SalesProduct:
    """Create a new sales product (409 when the code exists)."""
    async with uow:
        await _check_sales_product(uow, sp)
        await uow.repo.lock("sales-product", sp.code)
        if await uow.repo.sales_product_exists(sp.code):
            raise Conflict(f"sales product {sp.code} already exists")
        return (await _write_sales_product(uow, None, sp)).entity


async def put_sales_product(uow: Uow, sp: SalesProduct) -> Written[SalesProduct]:
    """Create or replace a sales product (its components too); an identical write changes nothing."""
    async with uow:
        await _check_sales_product(uow, sp)
        await uow.repo.lock("sales-product", sp.code)
        current = await uow.repo.get_sales_product(sp.code, for_update=True)
        return await _write_sales_product(uow, current, sp)


async def _check_sales_product(uow: Uow, sp: SalesProduct) -> None:
    codes = list(dict.fromkeys([sp.code, *(c.material_code for c in sp.components)]))
    check_sales_product(sp, await uow.repo.existing_material_codes(codes))


async def _write_sales_product(
    uow: Uow, current: SalesProduct | None, proposed: SalesProduct
) -> Written[SalesProduct]:
    revised = revise(current, proposed)
    if revised is None:
        assert current is not None
        return Written(current, created=False, changed=False)
    try:
        stored = await uow.repo.save_sales_product(revised, new=current is None)
    except Duplicate as exc:
        raise _integrity_conflict(exc, revised.code) from exc
    event, key = events.sales_product_upserted(stored)
    uow.emit(event, key=key)
    log.info("sales product upserted", code=stored.code, kind=stored.kind, version=stored.version)
    return Written(stored, created=current is None, changed=True)


async def get_sales_product(uow: Uow, code: str) -> SalesProduct:
    async with uow:
        sp = await uow.repo.get_sales_product(code)
    if sp is None:
        raise NotFound(f"sales product {code} does not exist")
    return sp


async def list_sales_products(
    uow: Uow, *, q: str | None, kind: str | None, active: bool | None, limit: int, offset: int
) -> Page:
    async with uow:
        return await uow.repo.list_sales_products(q=q, kind=kind, active=active, limit=limit, offset=offset)


async def decompose_sales_product(
    uow: Uow, code: str, qty: int, paid_cents: int
) -> tuple[SalesProduct, list[MaterialLine]]:
    """Preview: the material lines of `qty` units of sales product `code` paid `paid_cents` in all."""
    sp = await get_sales_product(uow, code)
    return sp, decompose(sp, qty, paid_cents)


# --- channel listings ----------------------------------------------------------------------------


def new_listing_id() -> str:
    return f"L-{uuid.uuid4().hex}"


async def create_listing(uow: Uow, listing: ChannelListing) -> ChannelListing:
    """Create a new listing (409 when its id or its channel item/sku is taken)."""
    async with uow:
        check_listing(listing, await uow.repo.sales_product_exists(listing.sales_product_code))
        await uow.repo.lock("channel-listing", listing.listing_id)
        if await uow.repo.get_listing(listing.listing_id) is not None:
            raise Conflict(f"channel listing {listing.listing_id} already exists")
        return (await _write_listing(uow, None, listing)).entity


async def put_listing(uow: Uow, listing: ChannelListing) -> Written[ChannelListing]:
    """Create or replace a listing; an identical write changes nothing."""
    async with uow:
        check_listing(listing, await uow.repo.sales_product_exists(listing.sales_product_code))
        await uow.repo.lock("channel-listing", listing.listing_id)
        current = await uow.repo.get_listing(listing.listing_id, for_update=True)
        return await _write_listing(uow, current, listing)


async def _write_listing(
    uow: Uow, current: ChannelListing | None, proposed: ChannelListing
) -> Written[ChannelListing]:
    revised = revise(current, proposed)
    if revised is None:
        assert current is not None
        return Written(current, created=False, changed=False)
    check_channel_key_free(revised, await uow.repo.listing_with_key(revised.channel_key))
    try:
        stored = await uow.repo.save_listing(revised, new=current is None)
    except Duplicate as exc:
        raise _integrity_conflict(exc, revised.listing_id) from exc
    event, key = events.channel_listing_upserted(stored)
    uow.emit(event, key=key)
    log.info(
        "channel listing upserted",
        listing_id=stored.listing_id,
        channel=stored.channel,
        shop_id=stored.shop_id,
        version=stored.version,
    )
    return Written(stored, created=current is None, changed=True)


async def get_listing(uow: Uow, listing_id: str) -> ChannelListing:
    async with uow:
        listing = await uow.repo.get_listing(listing_id)
    if listing is None:
        raise NotFound(f"channel listing {listing_id} does not exist")
    return listing


async def list_listings(
    uow: Uow,
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
    async with uow:
        return await uow.repo.list_listings(
            channel=channel,
            shop_id=shop_id,
            sales_product_code=sales_product_code,
            status=status,
            channel_item_id=channel_item_id,
            outer_id=outer_id,
            limit=limit,
            offset=offset,
        )
