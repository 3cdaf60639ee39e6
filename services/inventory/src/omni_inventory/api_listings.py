"""REST routes of what each channel listing may sell (layer 4): thin.

`GET /listings/{id}/stock` computes the number now, from the stock and the rules in force, and shows every
input and step (per node, pool, water level, allocation, safety stock, bundle part, formula) next to what
was last published to the channel.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import AwareDatetime, BaseModel, Field

from omni_chassis.app import Uow
from omni_chassis.paging import Limit, Offset, PageInfo

from .service import listings

router = APIRouter(tags=["listing stock"])
ListingId = Annotated[str, Path(min_length=1, max_length=128, pattern=r"^[^\s\x85]+$")]


class StepOut(BaseModel):
    step: str = Field(
        description="pool, dedicated-nodes, shared-everywhere, channel-safety, per-unit, bundle, formula, …"
    )
    detail: str = Field(description="the step in a sentence")
    value: int | None
    material_code: str | None
    inputs: dict[str, Any]


class PublishedOut(BaseModel):
    quantity: int | None = Field(description="None: nothing published yet")
    seq: int
    rules_version: int
    computed_at: AwareDatetime | None


class ListingStockOut(BaseModel):
    listing_id: str
    channel: str
    shop_id: str
    channel_item_id: str
    channel_sku_id: str | None
    sales_product_code: str
    status: str
    quantity: int = Field(description="what the listing may sell now")
    rules_version: int
    steps: list[StepOut]
    published: PublishedOut | None = Field(description="what was last published to the channel")


class ListingSummaryOut(BaseModel):
    listing_id: str
    channel: str
    shop_id: str
    sales_product_code: str
    status: str
    published: PublishedOut


class ListingStockPage(PageInfo):
    items: list[ListingSummaryOut]
    total: int
    limit: int
    offset: int


def _published(p: Any) -> PublishedOut:
    return PublishedOut(
        quantity=p.quantity, seq=p.seq, rules_version=p.rules_version, computed_at=p.computed_at
    )


@router.get("/listings/{listing_id}/stock", response_model=ListingStockOut, responses={404: {}})
async def listing_stock(listing_id: ListingId, uow: Uow) -> Any:
    """What the listing may sell, and why: every input and rule applied, and the result."""
    got = await listings.explain_listing(uow, listing_id)
    if got is None:
        raise HTTPException(
            404, f"no listing {listing_id!r} (inventory learns listings from product's events)"
        )
    lst = got.listing
    return ListingStockOut(
        listing_id=lst.listing_id, channel=lst.channel, shop_id=lst.shop_id,
        channel_item_id=lst.channel_item_id, channel_sku_id=lst.channel_sku_id,
        sales_product_code=lst.sales_product_code, status=lst.status,
        quantity=got.sellable.quantity, rules_version=got.rules_version,
        steps=[StepOut(**s.__dict__) for s in got.sellable.steps],
        published=_published(got.published) if got.published else None,
    )  # fmt: skip


@router.get("/listing-stock", response_model=ListingStockPage)
async def list_listing_stock(
    uow: Uow,
    channel: Annotated[str | None, Query(max_length=64)] = None,
    shop_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Any:
    """Every listing with what was last published for it, by listing id."""
    items, total = await listings.list_listing_stock(
        uow, channel=channel, shop_id=shop_id, limit=limit, offset=offset
    )
    out = [
        ListingSummaryOut(listing_id=r.listing_id, channel=r.channel, shop_id=r.shop_id,
                          sales_product_code=r.sales_product_code, status=r.status, published=_published(p))
        for r, p in items
    ]  # fmt: skip
    return {"items": out, "total": total, "limit": limit, "offset": offset}
