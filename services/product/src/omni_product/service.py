"""Use cases: the one place that orchestrates domain, store and outbox.

Every write runs in the caller's transaction: the row and its event (through `emit`) commit together,
or neither does. A write that changes nothing (an identical PUT) stores nothing and emits nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from omni_chassis.logging import get_logger
from omni_chassis.outbox import emit
from omni_contracts.bundles import MaterialLine

from . import store
from .domain import events
from .domain.model import (
    ChannelListing,
    Conflict,
    Material,
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

log = get_logger(__name__)

T = TypeVar("T", Material, SalesProduct, ChannelListing)


@dataclass(frozen=True)
class Written(Generic[T]):
    """The stored aggregate after a write; `created` (new) and `changed` (a version was written)."""

    entity: T
    created: bool
    changed: bool


def _integrity_conflict(exc: IntegrityError, what: str) -> Conflict:
    """A unique constraint broken by a concurrent writer, as a 409 sentence; others are not ours to map."""
    name = store.violated_constraint(exc)
    messages = {
        "materials_pkey": f"material {what} already exists",
        "materials_barcode_key": f"the barcode of material {what} already belongs to another material",
        "sales_products_pkey": f"sales product {what} already exists",
        "channel_listings_pkey": f"channel listing {what} already exists",
        store.LISTING_KEY_INDEX: f"the channel item/sku of listing {what} is already listed",
    }
    if name not in messages:
        raise exc
    return Conflict(messages[name])


# --- materials -----------------------------------------------------------------------------------


async def create_material(session: AsyncSession, m: Material) -> Material:
    """Create a new material (409 when the code exists)."""
    check_material(m)
    await store.lock(session, "material", m.code)
    if await store.get_material(session, m.code) is not None:
        raise Conflict(f"material {m.code} already exists")
    return (await _write_material(session, None, m)).entity


async def put_material(session: AsyncSession, m: Material) -> Written[Material]:
    """Create or replace a material; an identical write changes nothing."""
    check_material(m)
    await store.lock(session, "material", m.code)
    current = await store.get_material(session, m.code, for_update=True)
    return await _write_material(session, current, m)


async def _write_material(
    session: AsyncSession, current: Material | None, proposed: Material
) -> Written[Material]:
    revised = revise(current, proposed)
    if revised is None:
        assert current is not None
        return Written(current, created=False, changed=False)
    if current is None:
        check_material_code_free(revised.code, await store.sales_product_kind(session, revised.code))
    if revised.barcode is not None:
        holder = await store.material_with_barcode(session, revised.barcode)
        if holder is not None and holder != revised.code:
            raise Conflict(f"barcode {revised.barcode} already belongs to material {holder}")
    try:
        stored = await store.save_material(session, revised, new=current is None)
    except IntegrityError as exc:
        raise _integrity_conflict(exc, revised.code) from exc
    event, key = events.material_upserted(stored)
    await emit(session, event, key=key)
    log.info("material upserted", code=stored.code, version=stored.version)
    return Written(stored, created=current is None, changed=True)


async def get_material(session: AsyncSession, code: str) -> Material:
    m = await store.get_material(session, code)
    if m is None:
        raise NotFound(f"material {code} does not exist")
    return m


# --- sales products ------------------------------------------------------------------------------


async def create_sales_product(session: AsyncSession, sp: SalesProduct) -> SalesProduct:
    """Create a new sales product (409 when the code exists)."""
    await _check_sales_product(session, sp)
    await store.lock(session, "sales-product", sp.code)
    if await store.sales_product_exists(session, sp.code):
        raise Conflict(f"sales product {sp.code} already exists")
    return (await _write_sales_product(session, None, sp)).entity


async def put_sales_product(session: AsyncSession, sp: SalesProduct) -> Written[SalesProduct]:
    """Create or replace a sales product (its components too); an identical write changes nothing."""
    await _check_sales_product(session, sp)
    await store.lock(session, "sales-product", sp.code)
    current = await store.get_sales_product(session, sp.code, for_update=True)
    return await _write_sales_product(session, current, sp)


async def _check_sales_product(session: AsyncSession, sp: SalesProduct) -> None:
    codes = list(dict.fromkeys([sp.code, *(c.material_code for c in sp.components)]))
    check_sales_product(sp, await store.existing_material_codes(session, codes))


async def _write_sales_product(
    session: AsyncSession, current: SalesProduct | None, proposed: SalesProduct
) -> Written[SalesProduct]:
    revised = revise(current, proposed)
    if revised is None:
        assert current is not None
        return Written(current, created=False, changed=False)
    try:
        stored = await store.save_sales_product(session, revised, new=current is None)
    except IntegrityError as exc:
        raise _integrity_conflict(exc, revised.code) from exc
    event, key = events.sales_product_upserted(stored)
    await emit(session, event, key=key)
    log.info("sales product upserted", code=stored.code, kind=stored.kind, version=stored.version)
    return Written(stored, created=current is None, changed=True)


async def get_sales_product(session: AsyncSession, code: str) -> SalesProduct:
    sp = await store.get_sales_product(session, code)
    if sp is None:
        raise NotFound(f"sales product {code} does not exist")
    return sp


async def decompose_sales_product(
    session: AsyncSession, code: str, qty: int, paid_cents: int
) -> tuple[SalesProduct, list[MaterialLine]]:
    """Preview: the material lines of `qty` units of sales product `code` paid `paid_cents` in all."""
    sp = await get_sales_product(session, code)
    return sp, decompose(sp, qty, paid_cents)


# --- channel listings ----------------------------------------------------------------------------


def new_listing_id() -> str:
    return f"L-{uuid.uuid4().hex}"


async def create_listing(session: AsyncSession, listing: ChannelListing) -> ChannelListing:
    """Create a new listing (409 when its id or its channel item/sku is taken)."""
    check_listing(listing, await store.sales_product_exists(session, listing.sales_product_code))
    await store.lock(session, "channel-listing", listing.listing_id)
    if await store.get_listing(session, listing.listing_id) is not None:
        raise Conflict(f"channel listing {listing.listing_id} already exists")
    return (await _write_listing(session, None, listing)).entity


async def put_listing(session: AsyncSession, listing: ChannelListing) -> Written[ChannelListing]:
    """Create or replace a listing; an identical write changes nothing."""
    check_listing(listing, await store.sales_product_exists(session, listing.sales_product_code))
    await store.lock(session, "channel-listing", listing.listing_id)
    current = await store.get_listing(session, listing.listing_id, for_update=True)
    return await _write_listing(session, current, listing)


async def _write_listing(
    session: AsyncSession, current: ChannelListing | None, proposed: ChannelListing
) -> Written[ChannelListing]:
    revised = revise(current, proposed)
    if revised is None:
        assert current is not None
        return Written(current, created=False, changed=False)
    check_channel_key_free(revised, await store.listing_with_key(session, revised.channel_key))
    try:
        stored = await store.save_listing(session, revised, new=current is None)
    except IntegrityError as exc:
        raise _integrity_conflict(exc, revised.listing_id) from exc
    event, key = events.channel_listing_upserted(stored)
    await emit(session, event, key=key)
    log.info(
        "channel listing upserted",
        listing_id=stored.listing_id,
        channel=stored.channel,
        shop_id=stored.shop_id,
        version=stored.version,
    )
    return Written(stored, created=current is None, changed=True)


async def get_listing(session: AsyncSession, listing_id: str) -> ChannelListing:
    listing = await store.get_listing(session, listing_id)
    if listing is None:
        raise NotFound(f"channel listing {listing_id} does not exist")
    return listing
