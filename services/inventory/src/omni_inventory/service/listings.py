"""Use cases of layer 4 (渠道协同): keep what every channel listing may sell current, and say why.

The consumer `inventory-listings` reads the stock-changed stream, product's listings and sales products, and
fulfillment's nodes, one batch per unit of work. A batch gathers what it touched (materials whose stock
changed, listings or products that changed), recomputes exactly the listings those reach, and publishes
`inventory.listing-stock-changed` for each listing whose number changed. The batch is the coalescing
window: a hundred reservations on one material within it give one event per listing, with the last number.

Concurrent batches (replicas, partitions) serialize per listing on its `listing_stock` row (locked in one
order), and read stock after taking the lock, so the later computation sees the newer stock: the last
published number is never older than the newest computed one once the system is quiet.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from omni_chassis.logging import get_logger
from omni_contracts import Envelope, utcnow
from omni_contracts.events.inventory import ListingStockChangedV1

from ..domain.rules import EMPTY, RuleDocument
from ..domain.sellable import ListingView, RuleIndex, Sellable, explain
from ..store_listings import ListingRow, PublishedRow
from .changes import Uow

log = get_logger(__name__)

_INDEXES: dict[int, RuleIndex] = {}  # rule set version -> its index (a version never changes)


async def rule_index(uow: Uow) -> RuleIndex:
    """The rule set in force, indexed (cached per version: a new version is picked up at the next batch)."""
    version = await uow.repo.rules_version()
    idx = _INDEXES.get(version)
    if idx is None:
        row = await uow.repo.get_rule_set(version) if version else None
        doc = RuleDocument.model_validate(row.document) if row else EMPTY
        idx = RuleIndex(doc, version)
        if len(_INDEXES) > 16:
            _INDEXES.clear()
        _INDEXES[version] = idx
    return idx


@dataclass
class Touched:
    materials: set[str]
    listings: set[str]
    products: set[str]

    def __bool__(self) -> bool:
        return bool(self.materials or self.listings or self.products)


async def handle_batch(uow: Uow, envs: list[Envelope[Any]]) -> None:
    """Apply the batch's projections, then recompute what they reach (one unit of work)."""
    touched = Touched(set(), set(), set())
    async with uow:
        for env in envs:
            await _apply(uow, env, touched)
        if touched:
            await recompute(uow, touched, cause=envs[-1])


async def _apply(uow: Uow, env: Envelope[Any], touched: Touched) -> None:
    d = env.data
    if env.event_type == "inventory.stock-changed":
        touched.materials.add(d.material_code)
    elif env.event_type == "product.channel-listing.upserted":
        row = ListingRow(d.listing_id, d.channel, d.shop_id, d.channel_item_id, d.channel_sku_id,
                         d.sales_product_code, d.status, d.version)  # fmt: skip
        if await uow.repo.upsert_listing(row):
            touched.listings.add(d.listing_id)
    elif env.event_type == "product.sales-product.upserted":
        parts = [(c.material_code, c.qty) for c in d.components]
        if await uow.repo.upsert_sales_product(d.code, d.kind, d.active, d.version, parts):
            touched.products.add(d.code)
    elif env.event_type == "fulfillment.node.upserted":
        await uow.repo.upsert_node(d.node_code, d.type, d.active, utcnow())


async def recompute(uow: Uow, touched: Touched | None, *, cause: Envelope[Any] | None = None) -> int:
    """Recompute the listings `touched` reaches (None: every listing), publish the changed ones. Inside a
    unit of work. Returns how many listings' numbers changed."""
    if touched is None:
        ids = await uow.repo.listing_ids()
    else:
        ids = set(touched.listings)
        if touched.products:
            ids |= await uow.repo.listings_of_products(touched.products)
        if touched.materials:
            ids |= await uow.repo.listings_of_materials(touched.materials)
    if not ids:
        return 0
    published = await uow.repo.lock_published(ids)  # first: the stock read below is then the newest
    idx = await rule_index(uow)
    results = await compute(uow, idx, published.keys())
    now = utcnow()
    changed: list[tuple[str, int, int]] = []
    for listing_id, (listing, sellable) in sorted(results.items()):
        before = published[listing_id]
        if before.quantity == sellable.quantity:
            continue
        seq = before.seq + 1
        changed.append((listing_id, sellable.quantity, seq))
        uow.emit(
            ListingStockChangedV1(
                listing_id=listing_id, channel=listing.channel, shop_id=listing.shop_id,
                channel_item_id=listing.channel_item_id, channel_sku_id=listing.channel_sku_id,
                quantity=sellable.quantity, previous=before.quantity, seq=seq, rules_version=idx.version,
                computed_at=now,
            ),
            key=listing_id,
            cause=cause,
        )  # fmt: skip
    await uow.repo.save_published(changed, idx.version, now)
    if changed:
        log.info("listing stock changed", listings=len(changed), computed=len(results),
                 rules_version=idx.version)  # fmt: skip
    return len(changed)


async def compute(
    uow: Uow, idx: RuleIndex, listing_ids: Iterable[str]
) -> dict[str, tuple[ListingRow, Sellable]]:
    """Each listing's sellable quantity with its explanation, from the stock as it is now."""
    rows = await uow.repo.get_listings(listing_ids)
    products = await uow.repo.product_components({r.sales_product_code for r in rows.values()})
    views: dict[str, ListingView] = {}
    materials: set[str] = set()
    for lid, r in rows.items():
        active, parts = products.get(r.sales_product_code, (False, []))
        views[lid] = ListingView(lid, r.channel, r.shop_id, r.status, active, tuple(parts))
        materials.update(m for m, _ in parts)
    supply = await uow.repo.supply(materials) if materials else {}
    return {lid: (rows[lid], explain(idx, supply, v)) for lid, v in views.items()}


@dataclass(frozen=True)
class ListingStock:
    listing: ListingRow
    sellable: Sellable
    published: PublishedRow | None
    rules_version: int


async def explain_listing(uow: Uow, listing_id: str) -> ListingStock | None:
    """What the listing may sell now, every input and rule behind it, and what was last published."""
    async with uow:
        idx = await rule_index(uow)
        got = await compute(uow, idx, [listing_id])
        if listing_id not in got:
            return None
        listing, sellable = got[listing_id]
        return ListingStock(listing, sellable, await uow.repo.get_published(listing_id), idx.version)


async def list_listing_stock(
    uow: Uow, *, channel: str | None, shop_id: str | None, limit: int, offset: int
) -> tuple[list[tuple[ListingRow, PublishedRow]], int]:
    async with uow:
        return await uow.repo.list_published(channel=channel, shop_id=shop_id, limit=limit, offset=offset)
