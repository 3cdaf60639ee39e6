"""Mapping of the aggregates to the events the service emits (contracts: omni_contracts.events.product)."""

from __future__ import annotations

from omni_contracts.events.product import (
    BundleComponent,
    ChannelListingUpsertedV1,
    MaterialUpsertedV2,
    SalesProductUpsertedV1,
)

from .model import ChannelListing, Material, SalesProduct


def material_upserted(m: Material) -> tuple[MaterialUpsertedV2, str]:
    """The event and its key (the material code). Tags go out sorted."""
    event = MaterialUpsertedV2(
        code=m.code,
        name=m.name,
        barcode=m.barcode,
        unit=m.unit,
        weight_g=m.weight_g,
        high_value=m.high_value,
        active=m.active,
        category=m.category,
        tags=sorted(m.tags),
        handling=m.handling,
        tax_rate_bp=m.tax_rate_bp,
        version=m.version,
    )
    return event, m.code


def sales_product_upserted(sp: SalesProduct) -> tuple[SalesProductUpsertedV1, str]:
    """The event and its key (the sales product code). Components keep their order."""
    event = SalesProductUpsertedV1(
        code=sp.code,
        name=sp.name,
        kind=sp.kind,
        components=[
            BundleComponent(material_code=c.material_code, qty=c.qty, price_weight=c.price_weight)
            for c in sp.components
        ],
        active=sp.active,
        version=sp.version,
    )
    return event, sp.code


def channel_listing_upserted(listing: ChannelListing) -> tuple[ChannelListingUpsertedV1, str]:
    """The event and its key (the listing id)."""
    event = ChannelListingUpsertedV1(
        listing_id=listing.listing_id,
        channel=listing.channel,
        shop_id=listing.shop_id,
        channel_item_id=listing.channel_item_id,
        channel_sku_id=listing.channel_sku_id,
        outer_id=listing.outer_id,
        sales_product_code=listing.sales_product_code,
        price_cents=listing.price_cents,
        currency=listing.currency,
        status=listing.status,
        version=listing.version,
    )
    return event, listing.listing_id
