"""The order API's models: what the routes answer (api_views shapes the rows into them) and the bodies they
take."""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from omni_chassis.paging import PageInfo

from .api_views import MergeOut
from .domain.status import Status


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
    group: str | None = Field(None, description="split by type: the group it ships in (None: the main one)")
    ships: bool = Field(True, description="false: a virtual or service line, fulfilled without shipping")


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
