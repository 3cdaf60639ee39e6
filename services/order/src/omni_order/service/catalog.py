"""The catalog projection: omni.product events -> the order service's own copy of the catalog.

Materials, sales products (with their components) and channel listings, each row carrying the PIM
aggregate's version: an event not newer than what is stored changes nothing (replays, late deliveries and
`omni replay` are harmless). Intake decomposes channel orders with it, and the rules read each material's
facts from it: category, tags, handling and tax_rate_bp (product.material.upserted v2; a v1 event arrives
upcast with the defaults: uncategorised, no tags, normal, 13 %).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from omni_chassis.logging import get_logger
from omni_contracts import Envelope, EventPayload, utcnow

from .. import tables
from .journal import OrderNotFound, OrderUow

log = get_logger(__name__)

PRODUCT_EVENTS = frozenset(
    {"product.material.upserted", "product.sales-product.upserted", "product.channel-listing.upserted"}
)


async def project_catalog(uow: OrderUow, envs: Sequence[Envelope[Any]]) -> dict[str, int]:
    """Upsert materials, sales products and listings; an event not newer than what is stored is ignored."""
    now = utcnow()
    mats: list[dict[str, Any]] = []
    prods: list[dict[str, Any]] = []
    listings: list[dict[str, Any]] = []
    for env in envs:
        d = env.data
        if env.event_type == "product.material.upserted":
            mats.append(_columns(d, tables.materials) | {"updated_at": now})
        elif env.event_type == "product.sales-product.upserted":
            components = [c.model_dump() for c in d.components]
            prods.append(_columns(d, tables.sales_products) | {"updated_at": now, "components": components})
        elif env.event_type == "product.channel-listing.upserted":
            listings.append(_columns(d, tables.channel_listings) | {"updated_at": now})
    async with uow:
        written = (
            len(await uow.repo.upsert_materials(mats))
            + len(await uow.repo.upsert_sales_products(prods))
            + len(await uow.repo.upsert_listings(listings))
        )
    received = len(mats) + len(prods) + len(listings)
    log.info("catalog projected", received=received, written=written, stale_or_repeated=received - written)
    return {"received": received, "written": written}


def _columns(payload: EventPayload, table: Any) -> dict[str, Any]:
    """The payload's fields that are columns of `table` (fields added to the contract later are left out)."""
    return payload.model_dump(include=set(table.c.keys()))


async def get_catalog_material(uow: OrderUow, code: str) -> dict[str, Any]:
    """The order service's own copy of a material with the facts its rules and split by type decide on."""
    async with uow:
        row = await uow.repo.get_material(code)
    if row is None:
        raise OrderNotFound(f"no material {code} in the order service's catalog (yet)")
    return row


async def get_catalog_listing(uow: OrderUow, listing_id: str) -> dict[str, Any]:
    """The order service's own copy of a channel listing (what intake decomposes with)."""
    async with uow:
        row = await uow.repo.get_listing(listing_id)
    if row is None:
        raise OrderNotFound(f"no channel listing {listing_id} in the order service's catalog (yet)")
    return row
