"""REST routes of sales products and channel listings (materials: api_materials.py): thin. Validate,
call the service, shape the answer.

POST creates (201, 409 when the id is taken); PUT creates (201) or replaces (200) and is idempotent: an
identical PUT changes nothing (same version, no event). Domain errors: 404 / 409 / 422 with a sentence.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from fastapi import status as http
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from omni_chassis.app import Uow
from omni_chassis.paging import JsonInt, Limit, Offset

from . import service
from .api_common import (
    MAX_CENTS,
    MAX_INT32,
    PUT_422,
    ChannelId,
    Code,
    In,
    Page,
    PathCode,
    Text,
    domain_errors,
    put_status,
    same_id,
)
from .domain.model import ChannelListing, Component, SalesProduct

router = APIRouter()


# --- sales products ------------------------------------------------------------------------------


class ComponentIO(In):
    material_code: Code
    qty: JsonInt = Field(gt=0, le=100_000, description="units of the material in one unit of the product")
    price_weight: JsonInt = Field(gt=0, le=MAX_INT32, description="relative share of the price")


_SINGLE_HAS_ONE = {  # stated in the schema as the domain checks it: a single is one unit of one material
    "if": {"properties": {"kind": {"const": "single"}}, "required": ["kind"]},
    "then": {"properties": {"components": {"maxItems": 1, "items": {"properties": {"qty": {"const": 1}}}}}},
}


class SalesProductFields(In):
    model_config = ConfigDict(json_schema_extra=_SINGLE_HAS_ONE)

    name: Text
    kind: Literal["single", "bundle"]
    components: list[ComponentIO] = Field(
        min_length=1,
        max_length=100,
        description="in order; a single has exactly one (qty 1), a bundle at least one; distinct materials, "
        "each an existing material (422 otherwise)",
    )
    active: StrictBool = True

    def to_domain(self, code: str) -> SalesProduct:
        return SalesProduct(
            code=code,
            name=self.name,
            kind=self.kind,
            components=tuple(Component(**c.model_dump()) for c in self.components),
            active=self.active,
        )


class SalesProductCreate(SalesProductFields):
    code: Code


class SalesProductPut(SalesProductFields):
    code: Code | None = Field(None, description="optional; must equal the path's code")


class SalesProductOut(BaseModel):
    code: str
    name: str
    kind: str
    components: list[ComponentIO]
    active: bool
    version: int
    updated_at: datetime | None

    @classmethod
    def of(cls, sp: SalesProduct) -> SalesProductOut:
        return cls(
            code=sp.code,
            name=sp.name,
            kind=sp.kind,
            components=[
                ComponentIO(material_code=c.material_code, qty=c.qty, price_weight=c.price_weight)
                for c in sp.components
            ],
            active=sp.active,
            version=sp.version,
            updated_at=sp.updated_at,
        )


class DecomposeIn(In):
    qty: JsonInt = Field(gt=0, le=1_000_000, description="units of the sales product")
    paid_cents: JsonInt = Field(ge=0, le=MAX_CENTS, description="what was paid for all of them, in cents")


class MaterialLineOut(BaseModel):
    material_code: str
    qty: int
    amount_cents: int


class DecomposeOut(BaseModel):
    sales_product_code: str
    kind: str
    qty: int
    paid_cents: int
    lines: list[MaterialLineOut]


@router.post("/sales-products", status_code=http.HTTP_201_CREATED, tags=["sales products"])
async def create_sales_product(body: SalesProductCreate, uow: Uow) -> SalesProductOut:
    with domain_errors():
        return SalesProductOut.of(await service.create_sales_product(uow, body.to_domain(body.code)))


@router.put(
    "/sales-products/{code}",
    tags=["sales products"],
    responses={201: {"model": SalesProductOut}, 422: PUT_422},
)
async def put_sales_product(
    code: PathCode, body: SalesProductPut, uow: Uow, response: Response
) -> SalesProductOut:
    same_id(code, body.code, "code")
    with domain_errors():
        written = await service.put_sales_product(uow, body.to_domain(code))
    put_status(response, written.created)
    return SalesProductOut.of(written.entity)


@router.get("/sales-products/{code}", tags=["sales products"])
async def get_sales_product(code: str, uow: Uow) -> SalesProductOut:
    with domain_errors():
        return SalesProductOut.of(await service.get_sales_product(uow, code))


@router.get("/sales-products", tags=["sales products"])
async def list_sales_products(
    uow: Uow,
    limit: Limit = 50,
    offset: Offset = 0,
    q: Annotated[str | None, Query(max_length=100, description="code or name contains")] = None,
    kind: Literal["single", "bundle"] | None = None,
    active: bool | None = None,
) -> Page[SalesProductOut]:
    with domain_errors():
        page = await service.list_sales_products(
            uow, q=q, kind=kind, active=active, limit=limit, offset=offset
        )
    return Page(
        items=[SalesProductOut.of(s) for s in page.items], total=page.total, limit=limit, offset=offset
    )


@router.post("/sales-products/{code}/decompose", tags=["sales products"])
async def decompose_sales_product(code: str, body: DecomposeIn, uow: Uow) -> DecomposeOut:
    """Preview how a channel line of this product splits into material lines (amounts add up to the cent)."""
    with domain_errors():
        sp, lines = await service.decompose_sales_product(uow, code, body.qty, body.paid_cents)
    return DecomposeOut(
        sales_product_code=sp.code,
        kind=sp.kind,
        qty=body.qty,
        paid_cents=body.paid_cents,
        lines=[
            MaterialLineOut(material_code=x.material_code, qty=x.qty, amount_cents=x.amount_cents)
            for x in lines
        ],
    )


# --- channel listings ----------------------------------------------------------------------------


class ListingFields(In):
    channel: Code = Field(description="e.g. tmall, jd, pdd, douyin")
    shop_id: Code
    channel_item_id: ChannelId = Field(description="num_iid on Taobao/Tmall")
    channel_sku_id: ChannelId | None = Field(None, description="sku_id; absent for a single-SKU item")
    outer_id: ChannelId | None = Field(None, description="the merchant code (outer_sku_id / outer_iid)")
    sales_product_code: Code
    price_cents: JsonInt = Field(ge=0, le=MAX_CENTS)
    currency: str = Field("CNY", pattern=r"^[A-Z]{3}$", description="ISO 4217")
    status: Literal["on_sale", "off_sale"] = "on_sale"

    def to_domain(self, listing_id: str) -> ChannelListing:
        return ChannelListing(listing_id=listing_id, **self.model_dump(exclude={"listing_id"}))


class ListingCreate(ListingFields):
    listing_id: Code | None = Field(None, description="generated (L-<hex>) when absent")


class ListingPut(ListingFields):
    listing_id: Code | None = Field(None, description="optional; must equal the path's listing id")


class ListingOut(BaseModel):
    listing_id: str
    channel: str
    shop_id: str
    channel_item_id: str
    channel_sku_id: str | None
    outer_id: str | None
    sales_product_code: str
    price_cents: int
    currency: str
    status: str
    version: int
    updated_at: datetime | None

    @classmethod
    def of(cls, listing: ChannelListing) -> ListingOut:
        return cls.model_validate(listing, from_attributes=True)


@router.post("/channel-listings", status_code=http.HTTP_201_CREATED, tags=["channel listings"])
async def create_listing(body: ListingCreate, uow: Uow) -> ListingOut:
    listing_id = body.listing_id or service.new_listing_id()
    with domain_errors():
        return ListingOut.of(await service.create_listing(uow, body.to_domain(listing_id)))


@router.put(
    "/channel-listings/{listing_id}",
    tags=["channel listings"],
    responses={201: {"model": ListingOut}, 422: PUT_422},
)
async def put_listing(listing_id: PathCode, body: ListingPut, uow: Uow, response: Response) -> ListingOut:
    same_id(listing_id, body.listing_id, "listing_id")
    with domain_errors():
        written = await service.put_listing(uow, body.to_domain(listing_id))
    put_status(response, written.created)
    return ListingOut.of(written.entity)


@router.get("/channel-listings/{listing_id}", tags=["channel listings"])
async def get_listing(listing_id: str, uow: Uow) -> ListingOut:
    with domain_errors():
        return ListingOut.of(await service.get_listing(uow, listing_id))


@router.get("/channel-listings", tags=["channel listings"])
async def list_listings(
    uow: Uow,
    limit: Limit = 50,
    offset: Offset = 0,
    channel: str | None = None,
    shop_id: str | None = None,
    sales_product_code: str | None = None,
    status: Literal["on_sale", "off_sale"] | None = None,
    channel_item_id: str | None = None,
    outer_id: str | None = None,
) -> Page[ListingOut]:
    with domain_errors():
        page = await service.list_listings(
            uow,
            channel=channel,
            shop_id=shop_id,
            sales_product_code=sales_product_code,
            status=status,
            channel_item_id=channel_item_id,
            outer_id=outer_id,
            limit=limit,
            offset=offset,
        )
    return Page(items=[ListingOut.of(x) for x in page.items], total=page.total, limit=limit, offset=offset)
