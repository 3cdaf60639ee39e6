"""Product master data (PIM): materials, sales products (single or bundle), channel listings.

Every upsert carries the aggregate's `version` (1, 2, …) so projections ignore stale or repeated events.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator, Field

from ..envelope import EventPayload
from ..registry import REGISTRY, event
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


# v2 (issue #10: the facts the OMS rules decide on) adds, all optional with defaults:
# - `category`: a code path, lowercase segments of [a-z0-9_-] joined by "/" (e.g. food/coffee/beans);
#   "" is uncategorised. Rules match it by prefix (`food/coffee` covers `food/coffee/beans`);
# - `tags`: short codes (gift, fragile, new, ...), distinct and sent sorted;
# - `handling`: how the goods move. virtual and service are completed without shipping; cold_chain, frozen
#   and oversize go in parcels of their own;
# - `tax_rate_bp`: the VAT rate in basis points (1300 = 13 %). The contract takes 0..10000; PIM accepts only
#   the rates China's VAT has (see omni_product.domain.model.VAT_RATES_BP).
# Every v1 event is valid v2 data (the upcaster fills the defaults in), and v2 only adds optional fields
# (readable_as=1: a v1 reader reads a v2 through its own schema).
CATEGORY_PATTERN = r"^([a-z0-9_-]+(/[a-z0-9_-]+)*)?$"
TAG_PATTERN = r"^[a-z0-9_-]+$"
Handling = Literal["normal", "cold_chain", "frozen", "oversize", "virtual", "service"]
HANDLING_CLASSES: tuple[str, ...] = get_args(Handling)
UNSHIPPED_HANDLING = frozenset({"virtual", "service"})  # completed without a parcel
OWN_PARCEL_HANDLING = frozenset({"cold_chain", "frozen", "oversize"})  # never packed with other goods
DEFAULT_TAX_RATE_BP = 1300

Category = Annotated[
    str, Field(max_length=200, pattern=CATEGORY_PATTERN, description="a code path, e.g. food/coffee/beans")
]
Tag = Annotated[str, Field(min_length=1, max_length=32, pattern=TAG_PATTERN)]
TaxRateBp = Annotated[int, Field(ge=0, le=10_000, description="VAT rate in basis points: 1300 = 13 %")]


def _distinct_sorted(tags: list[str]) -> list[str]:
    return sorted(set(tags))


@event("product.material.upserted", 2, Topic.PRODUCT, readable_as=1)
class MaterialUpsertedV2(MaterialUpsertedV1):
    """A material (基础物料) was created or changed, with the facts order rules decide on. Key: material
    code."""

    category: Category = ""
    tags: Annotated[list[Tag], AfterValidator(_distinct_sorted)] = Field(
        default_factory=list, max_length=32, description="distinct short codes, sorted"
    )
    handling: Handling = Field(
        "normal",
        description="virtual / service: completed without shipping; cold_chain / frozen / oversize: "
        "a parcel of their own",
    )
    tax_rate_bp: TaxRateBp = DEFAULT_TAX_RATE_BP


@REGISTRY.upcaster("product.material.upserted", 1)
def _material_upserted_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    return {"category": "", "tags": [], "handling": "normal", "tax_rate_bp": DEFAULT_TAX_RATE_BP, **data}


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
