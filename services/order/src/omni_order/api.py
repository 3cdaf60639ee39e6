"""REST routes: thin. Validate, call a use case with the chassis unit of work (`Uow`), shape the answer
(`api_views`). No route opens a transaction or touches the repository."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Query
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from omni_chassis.app import Uow
from omni_chassis.errors import ProblemError
from omni_chassis.paging import Limit, Offset, PageInfo

from . import service
from .api_views import MergeOut, Viewer, present
from .domain.status import DomainError, IllegalTransition, Status

router = APIRouter(prefix="/orders", tags=["orders"])


# -- response models -----------------------------------------------------------------------------
class _Out(BaseModel):
    model_config = ConfigDict(extra="ignore")


class OrderSummary(_Out):
    order_id: str
    channel: str
    shop_id: str
    channel_order_id: str
    channel_status: str
    business_model: str
    status: Status
    status_reason_code: str | None
    status_reason: str | None
    delivery: str
    currency: str
    paid_cents: int
    goods_paid_cents: int
    created_at: AwareDatetime
    paid_at: AwareDatetime | None
    received_at: AwareDatetime
    updated_at: AwareDatetime
    duplicate_deliveries: int


class OrderPage(PageInfo):
    items: list[OrderSummary]
    total: int
    limit: int
    offset: int


class PartnerOut(_Out):
    party: str
    role: str = Field(description="distributor (S2B2C, by level), agent, store or service")
    level: int
    share_bp: int = Field(description="commission: basis points of the goods paid")


class Roles(_Out):
    owner: str
    seller: str
    channel: str
    fulfiller: str | None
    platform: str | None
    partners: list[PartnerOut] = Field(default_factory=list, description="set by the strategy's roles")


class Trade(_Out):
    channel: str
    shop_id: str
    channel_order_id: str
    channel_status: str
    business_model: str
    buyer_id: str
    buyer_message: str
    roles: Roles
    created_at: AwareDatetime
    paid_at: AwareDatetime | None
    received_at: AwareDatetime
    recorded_at: AwareDatetime
    updated_at: AwareDatetime
    completed_at: AwareDatetime | None
    cancelled_at: AwareDatetime | None
    duplicate_deliveries: int = Field(
        description="deliveries of the same trade after the first (nothing created)"
    )
    last_duplicate_at: AwareDatetime | None


class ChannelLine(_Out):
    position: int
    channel_line_id: str
    channel_item_id: str
    channel_sku_id: str | None
    outer_sku_id: str | None
    outer_iid: str | None
    title: str
    qty: int
    unit_price_cents: int
    discount_cents: int
    paid_cents: int
    listing_id: str | None = Field(description="the listing it was matched to; null when none was found")
    sales_product_code: str | None


class MaterialLine(_Out):
    line_id: str
    channel_line_id: str
    sales_product_code: str
    material_code: str
    qty: int
    amount_cents: int
    gift_id: str | None = Field(None, description="a gift the rules added (0 paid): its gift id")
    source_order_id: str | None = Field(None, description="a merged order's line: its source order")
    source_line_id: str | None = None


class Goods(_Out):
    channel_lines: list[ChannelLine]
    lines: list[MaterialLine]


class Allocation(_Out):
    node_code: str
    qty: int
    task_id: str
    reservation_id: str


class StockLine(_Out):
    line_id: str
    material_code: str
    qty: int
    allocations: list[Allocation]
    shipped_qty: int = Field(description="units of this line shipped (or picked up) so far, over all tasks")


class Stock(_Out):
    lines: list[StockLine]


class Address(_Out):
    name: str = Field(description="masked (张*) unless the caller may see it in full (docs/buyer-data.md)")
    phone: str = Field(description="masked (138****8000) unless the caller may see it in full")
    country: str
    state: str
    city: str
    district: str
    town: str
    detail: str = Field(description="masked (its first 4 characters and ****) unless seen in full")
    zip: str
    masked: bool = Field(
        description="name, phone and detail are masks: the caller's view, or all the platform sent"
    )


class Geo(_Out):
    lat: float
    lng: float


class Shipment(_Out):
    task_id: str
    node_code: str
    kind: str
    carrier: str | None
    tracking_no: str | None
    at: AwareDatetime


class Logistics(_Out):
    delivery: str
    pickup_node: str | None
    address: Address
    geo: Geo | None
    shipments: list[Shipment]


class LineAmount(_Out):
    line_id: str
    amount_cents: int


class Money(_Out):
    currency: str
    goods_cents: int
    discount_cents: int
    post_fee_cents: int
    paid_cents: int
    goods_paid_cents: int
    allocation: list[LineAmount]


class Invoice(_Out):
    kind: str
    title: str | None
    tax_id: str | None


class HistoryEntry(_Out):
    from_status: str | None
    to_status: str
    reason_code: str | None
    reason: str
    source: str
    at: AwareDatetime


class WritebackProblem(_Out):
    """A platform permanently refused to take this shipment (the channel's GET /shipment-writebacks/{id}
    has the detail; POST .../retry there after fixing the cause)."""

    writeback_id: str
    channel: str
    carrier: str
    company_code: str | None
    tracking_no: str
    reason: str
    refused_at: AwareDatetime


class OrderDetail(_Out):
    order_id: str
    status: Status
    status_reason_code: str | None
    status_reason: str | None
    trade: Trade
    goods: Goods
    stock: Stock
    logistics: Logistics
    money: Money
    invoice: Invoice | None
    history: list[HistoryEntry]
    writeback_problems: list[WritebackProblem] = []
    merge: MergeOut


class CancelRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(
        min_length=1,
        max_length=500,
        pattern=r"[^\s\x1c-\x1f\x85\ufeff]",  # not blank, as str.strip sees it (the validator below)
        description="why the order is cancelled, for the record",
    )

    @field_validator("reason")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("reason must not be blank")
        return v.strip()


# -- helpers -------------------------------------------------------------------------------------
_WHEN = {"anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}]}


def _bound(value: str | None, name: str, *, end: bool) -> datetime | None:
    """An ISO date (a whole UTC day) or an ISO datetime (naive means UTC). `end` bounds are exclusive."""
    if value is None:
        return None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            try:
                return datetime.combine(day + timedelta(days=1) if end else day, time.min, tzinfo=UTC)
            except OverflowError:  # the end of 9999-12-31
                return datetime.max.replace(tzinfo=UTC)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ProblemError(
            422,
            "Invalid request",
            f"{name} must be an ISO date (2024-05-01) or date-time (2024-05-01T08:00:00Z)",
            problems=[{"path": f"query.{name}", "message": "not an ISO date or date-time"}],
        ) from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # a moment of year 1 or 9999 that UTC cannot hold
        return (datetime.max if moment.year > 1 else datetime.min).replace(tzinfo=UTC)


async def _call(fn: Any, uow: Uow, *args: Any, **kwargs: Any) -> Any:
    """Run a use case (it opens its own unit of work); domain refusals become 404/409/422."""
    try:
        return await fn(uow, *args, **kwargs)
    except service.OrderNotFound as exc:
        raise HTTPException(404, str(exc)) from None
    except (
        IllegalTransition,
        service.StillBlocked,
        service.StillHeld,
        service.NotMergeable,
        service.MergedSource,
    ) as exc:
        raise HTTPException(409, str(exc)) from None
    except DomainError as exc:
        raise HTTPException(422, str(exc)) from None


def _viewer(
    x_omni_role: Annotated[str | None, Header(description="the caller's role (set by the gateway)")] = None,
    x_omni_node_scope: Annotated[
        str | None, Header(description="a store's node (set by the gateway)")
    ] = None,
) -> Viewer:
    """Who asks, as the gateway forwards it (it drops any X-Omni-* a client sent): decides the masking."""
    return Viewer(role=x_omni_role, node_scope=x_omni_node_scope)


Caller = Annotated[Viewer, Depends(_viewer)]


# -- routes --------------------------------------------------------------------------------------
@router.get("", response_model=OrderPage, summary="List orders, newest first")
async def list_orders(
    uow: Uow,
    status: Status | None = None,
    channel: str | None = Query(None, min_length=1, max_length=64),
    shop_id: str | None = Query(None, min_length=1, max_length=64),
    created_from: Annotated[
        str | None,
        Query(
            description="inclusive; ISO date (a UTC day) or date-time (naive = UTC)", json_schema_extra=_WHEN
        ),
    ] = None,
    created_to: Annotated[
        str | None,
        Query(
            description="a date includes that whole UTC day; a date-time is exclusive",
            json_schema_extra=_WHEN,
        ),
    ] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    lo = _bound(created_from, "created_from", end=False)
    hi = _bound(created_to, "created_to", end=True)
    # created_from at or after created_to: an empty window, so an empty page
    items, total = await _call(
        service.list_orders,
        uow,
        status=status.value if status else None,
        channel=channel,
        shop_id=shop_id,
        created_from=lo,
        created_to=hi,
        limit=limit,
        offset=offset,
    )
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.get(
    "/by-channel/{channel}/{channel_order_id}", response_model=OrderDetail, summary="Find by channel order id"
)
async def get_by_channel(uow: Uow, channel: str, channel_order_id: str, caller: Caller) -> dict[str, Any]:
    return present(await _call(service.get_order_by_channel, uow, channel, channel_order_id), caller)


@router.get("/{order_id}", response_model=OrderDetail, summary="One order: six dimensions, lines and history")
async def get_order(uow: Uow, order_id: str, caller: Caller) -> dict[str, Any]:
    return present(await _call(service.get_order, uow, order_id), caller)


@router.post(
    "/{order_id}/cancel",
    response_model=OrderDetail,
    summary="Cancel an order",
    responses={
        404: {"description": "no such order"},
        409: {"description": "the order can no longer be cancelled"},
    },
)
async def cancel(uow: Uow, order_id: str, body: CancelRequest, caller: Caller) -> dict[str, Any]:
    await _call(service.cancel, uow, order_id, body.reason)
    return present(await _call(service.get_order, uow, order_id), caller)


@router.post(
    "/{order_id}/retry",
    response_model=OrderDetail,
    summary="Retry an order held in exception (after fixing its cause)",
    responses={
        404: {"description": "no such order"},
        409: {"description": "the order is not in exception, or still cannot be accepted (reasons given)"},
    },
)
async def retry(uow: Uow, order_id: str, caller: Caller) -> dict[str, Any]:
    await _call(service.retry, uow, order_id)
    return present(await _call(service.get_order, uow, order_id), caller)


catalog_router = APIRouter(prefix="/catalog", tags=["catalog"])


@catalog_router.get("/listings/{listing_id}", summary="The catalog projection's copy of a channel listing")
async def get_catalog_listing(uow: Uow, listing_id: str) -> dict[str, Any]:
    return await _call(service.get_catalog_listing, uow, listing_id)
