"""Test data shared by the order service's unit and integration tests (the reference channel order)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from omni_chassis.outbox import build
from omni_contracts import Envelope
from omni_contracts.bundles import Component
from omni_contracts.events.channel import Address, ChannelOrderLine, ChannelOrderReceivedV1, channel_order_key
from omni_contracts.events.product import (
    BundleComponent,
    ChannelListingUpsertedV1,
    MaterialUpsertedV1,
    SalesProductUpsertedV1,
)
from omni_order.domain.intake import Catalog, Listing, Material, SalesProduct

SHOP = "S1"
# The seed's "3 origins coffee beans x automatic coffee machine" set (as in contracts/tests/test_bundles.py).
COFFEE_SET = (
    Component("BEAN-YUNNAN-250G", 1, 1),
    Component("BEAN-ETHIOPIA-250G", 1, 1),
    Component("BEAN-COLOMBIA-250G", 1, 1),
    Component("MACHINE-AUTO-01", 1, 12),
)
BEANS = (Component("BEAN-ETH-500", 1, 1),)
MATERIALS = [c.material_code for c in COFFEE_SET + BEANS]


def catalog(**overrides: Any) -> Catalog:
    """The reference catalog: the coffee set listed on tmall (item 6012345 sku 4456) and a bag of beans."""
    listings = overrides.get(
        "listings",
        [
            Listing("L-COFFEE", "tmall", SHOP, "6012345", "4456", "SET-COFFEE-PRO", "SET-COFFEE-PRO"),
            Listing("L-BEANS", "tmall", SHOP, "6019999", None, "BEAN-ETH-500", "BEAN-ETH-500"),
        ],
    )
    products = overrides.get(
        "products",
        [
            SalesProduct("SET-COFFEE-PRO", "Coffee set", True, COFFEE_SET),
            SalesProduct("BEAN-ETH-500", "Ethiopia beans 500 g", True, BEANS),
        ],
    )
    materials = overrides.get("materials", [Material(code, True) for code in MATERIALS])
    return Catalog(listings, products, materials)


def line(n: int, **kw: Any) -> ChannelOrderLine:
    base: dict[str, Any] = {"channel_line_id": f"oid-{n}", "title": f"line {n}"}
    return ChannelOrderLine(**(base | kw))


def coffee_line(n: int = 1, **kw: Any) -> ChannelOrderLine:
    base = dict(channel_item_id="6012345", channel_sku_id="4456", outer_sku_id="SET-COFFEE-PRO", qty=1,
                unit_price_cents=309_900, paid_cents=300_775, discount_cents=9_125)  # fmt: skip
    return line(n, **(base | kw))


def beans_line(n: int = 2, **kw: Any) -> ChannelOrderLine:
    base = dict(channel_item_id="6019999", outer_iid="BEAN-ETH-500", qty=3, unit_price_cents=9_900,
                paid_cents=28_825, discount_cents=875)  # fmt: skip
    return line(n, **(base | kw))


def channel_order(**kw: Any) -> ChannelOrderReceivedV1:
    """The reference order of reference/channels: coffee set x1 + beans x3, coupon 100.00, paid 3296.00."""
    now = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
    base: dict[str, Any] = dict(
        channel="tmall", shop_id=SHOP, channel_order_id=f"T{uuid.uuid4().hex[:12]}",
        channel_status="WAIT_SELLER_SEND_GOODS", buyer_id="buyer-1",
        receiver=Address(name="张三", phone="13800000000", state="浙江省", city="杭州市", district="西湖区",
                         detail="文三路 1 号"),
        lines=[coffee_line(1), beans_line(2)],
        goods_cents=339_600, discount_cents=10_000, post_fee_cents=0, paid_cents=329_600,
        created_at=now, paid_at=now, received_at=now,
    )  # fmt: skip
    return ChannelOrderReceivedV1(**(base | kw))


def envelope(payload: Any, key: str | None = None) -> Envelope[Any]:
    if key is None:
        key = (
            channel_order_key(payload.channel, payload.channel_order_id)
            if isinstance(payload, ChannelOrderReceivedV1)
            else getattr(payload, "order_id", None) or getattr(payload, "code", None) or payload.listing_id
        )
    return build(payload, key=key)


def product_events(version: int = 1, suffix: str = "") -> list[Any]:
    """The reference catalog as omni.product events (codes suffixed to keep tests apart)."""
    s = suffix
    events: list[Any] = [
        MaterialUpsertedV1(code=m + s, name=m, unit="pcs", weight_g=500, version=version) for m in MATERIALS
    ]
    events += [
        SalesProductUpsertedV1(
            code="SET-COFFEE-PRO" + s, name="Coffee set", kind="bundle", version=version,
            components=[BundleComponent(material_code=c.material_code + s, qty=c.qty,
                                        price_weight=c.price_weight) for c in COFFEE_SET],
        ),
        SalesProductUpsertedV1(
            code="BEAN-ETH-500" + s, name="Ethiopia beans", kind="single", version=version,
            components=[BundleComponent(material_code="BEAN-ETH-500" + s, qty=1, price_weight=1)],
        ),
        ChannelListingUpsertedV1(
            listing_id="L-COFFEE" + s, channel="tmall", shop_id=SHOP, channel_item_id="6012345" + s,
            channel_sku_id="4456", outer_id="SET-COFFEE-PRO" + s, sales_product_code="SET-COFFEE-PRO" + s,
            price_cents=309_900, version=version,
        ),
        ChannelListingUpsertedV1(
            listing_id="L-BEANS" + s, channel="tmall", shop_id=SHOP, channel_item_id="6019999" + s,
            outer_id="BEAN-ETH-500" + s, sales_product_code="BEAN-ETH-500" + s, price_cents=9_900,
            version=version,
        ),
    ]  # fmt: skip
    return events


def suffixed_order(suffix: str, **kw: Any) -> ChannelOrderReceivedV1:
    """The reference order against the catalog of `product_events(suffix=...)`."""
    lines = [
        coffee_line(1, channel_item_id="6012345" + suffix, outer_sku_id="SET-COFFEE-PRO" + suffix),
        beans_line(2, channel_item_id="6019999" + suffix, outer_iid="BEAN-ETH-500" + suffix),
    ]
    return channel_order(**({"lines": lines} | kw))
