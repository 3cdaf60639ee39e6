"""Product master data (PIM): materials, sales products (single or bundle), channel listings.

Every upsert carries the aggregate's `version` (1, 2, …) so projections ignore stale or repeated events.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..envelope import EventPayload
from ..registry import event
from ..topics import Topic
from .common import Code, Currency, NonNegCents, Value


@event("product.material.upserted", 1, Topic.PRODUCT)
class MaterialUpsertedV1(EventPayload):
    """A material (基础物料, the stock-keeping unit) was created or changed. Key: material code."""

    code: Code
    name: str = Field(min_length=1)
    barcode: str | None = None
    unit: str = Field(min_length=1, description="e.g. pcs, bag, box")
    weight_g: int = Field(ge=0, description="grams")
    high_value: bool = False
    active: bool = True
    version: int = Field(ge=1)


class BundleComponent(Value):
    material_code: Code
    qty: int = Field(gt=0, description="units of the material in one unit of the sales product")
    price_weight: int = Field(gt=0, description="relative share of the price, per component line")


@event("product.sales-product.upserted", 1, Topic.PRODUCT)
class SalesProductUpsertedV1(EventPayload):
    """A sales product (销售商品) was created or changed. A single has one component with qty 1."""

    code: Code
    name: str = Field(min_length=1)
    kind: Literal["single", "bundle"]
    components: list[BundleComponent] = Field(min_length=1)
    active: bool = True
    version: int = Field(ge=1)


@event("product.channel-listing.upserted", 1, Topic.PRODUCT)
class ChannelListingUpsertedV1(EventPayload):
    """A channel listing (渠道商品) was created or changed. Key: listing id.

    Orders find their listing by (channel, shop_id, channel_item_id, channel_sku_id), else by outer_id.
    """

    listing_id: str = Field(min_length=1)
    channel: Code
    shop_id: Code
    channel_item_id: str = Field(min_length=1, description="num_iid on Taobao/Tmall")
    channel_sku_id: str | None = Field(None, description="sku_id on Taobao/Tmall; None for a single-SKU item")
    outer_id: str | None = Field(None, description="the merchant code (outer_sku_id / outer_iid)")
    sales_product_code: Code
    price_cents: NonNegCents
    currency: Currency = "CNY"
    status: Literal["on_sale", "off_sale"] = "on_sale"
    version: int = Field(ge=1)
