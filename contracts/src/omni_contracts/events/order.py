"""The order aggregate's lifecycle (OMS). Key: order id."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field, model_validator

from ..envelope import EventPayload
from ..registry import event
from ..topics import Topic
from .common import Code, Currency, NonNegCents, Qty, Value


class ShipTo(Value):
    """Where the goods go. Personal data: never log it."""

    name: str = ""
    phone: str = ""
    state: str = ""
    city: str = ""
    district: str = ""
    detail: str = ""
    lat: float | None = None
    lng: float | None = None


class OrderLine(Value):
    """One material line after decomposition, with its share of the paid amount."""

    line_id: str
    channel_line_id: str
    sales_product_code: Code
    material_code: Code
    qty: Qty
    amount_cents: NonNegCents = Field(description="allocated paid amount; the lines add up to goods paid")
    gift_id: str | None = Field(
        None, description="a gift the OMS rules added (0 paid; finance books its cost): the rule's gift id"
    )
    source_order_id: str | None = Field(
        None, description="a merged order's line: the source order (one of `sources`) it came from"
    )
    group: Code | None = Field(
        None,
        description="split by type (拆单): the lines of a group (cold_chain, frozen, oversize, high_value, "
        "presale) "
        "are sourced and shipped apart from the other groups' lines; None: the order's main group",
    )
    ships: bool = Field(
        True,
        description="false: a virtual or service line (a coupon, a class), fulfilled by the OMS without "
        "shipping; fulfillment does not source it",
    )
    high_value: bool = Field(
        False,
        description="a high-value material: routing sources it at the nodes dedicated to high-value goods "
        "first (a line of group high_value is high-value too)",
    )


class OrderSource(Value):
    """A platform order merged (合单) into the accepted order. Its sale, its money, its invoice and its
    after-sales stay its own: finance books per source, and the channel writes the shipment back to each
    source's platform order."""

    order_id: str = Field(description="the source's own Omni order id (status merged while it is merged)")
    shop_id: Code
    channel_order_id: str
    goods_paid_cents: NonNegCents
    post_fee_cents: NonNegCents = 0
    paid_cents: NonNegCents
    paid_at: AwareDatetime | None = None


class RouteHint(Value):
    """A preference the OMS rules set for sourcing: a node, a pool or a carrier (fulfillment decides)."""

    node: Code | None = None
    pool: Code | None = None
    carrier: Code | None = None
    ruleset: str = Field("", description="the rule set and version that set it (<id> v<n>), for the trace")


class OrderRoles(Value):
    """Who is who in the order (the seed's six roles, the partners aside): set by the OMS strategy."""

    owner: str
    seller: str
    channel: str
    fulfiller: str | None = None
    platform: str | None = None


class Partner(Value):
    """A partner with a commission share of the order's goods paid (basis points), e.g. an S2B2C
    distributor at level 1..3."""

    party: str
    role: str
    level: int = Field(1, ge=1, le=3)
    share_bp: int = Field(ge=0, le=10_000)


@event("order.accepted", 1, Topic.ORDER)
class OrderAcceptedV1(EventPayload):
    """An order passed its checks and awaits sourcing."""

    order_id: str
    channel: Code
    shop_id: Code
    channel_order_id: str
    business_model: str = "B2C"
    delivery: Literal["express", "store_pickup", "same_city"] = "express"
    pickup_node: str | None = None
    ship_to: ShipTo
    lines: list[OrderLine] = Field(min_length=1)
    goods_paid_cents: NonNegCents = Field(description="paid for goods (paid minus freight) = Σ line amounts")
    post_fee_cents: NonNegCents = 0
    paid_cents: NonNegCents
    currency: Currency = "CNY"
    paid_at: AwareDatetime | None = None
    priority: int = Field(0, description="set by the OMS rules: higher is sourced and picked first")
    tags: list[str] = Field(default_factory=list, description="set by the OMS rules")
    route_hints: list[RouteHint] = Field(default_factory=list, description="the OMS rules' preferences")
    roles: OrderRoles | None = Field(None, description="owner, seller, channel, fulfiller, platform")
    partners: list[Partner] = Field(default_factory=list, description="commission shares, for finance")
    sources: list[OrderSource] = Field(
        default_factory=list,
        description="a merged order's platform orders, oldest first (empty: the order is its own); every "
        "line then names its source, and the sources' money adds up to the order's",
    )
    payment: Literal["paid", "on_account"] = Field(
        "paid",
        description="on_account: a B2B order taken on credit terms (账期): nothing was paid yet; finance "
        "books a receivable, cleared by order.payment-received",
    )
    due_at: AwareDatetime | None = Field(None, description="on_account: when the payment is due")
    credit_account: str | None = Field(
        None, description="on_account: the buyer's credit account the order counts against (<channel>:<buyer>)"
    )

    @model_validator(mode="after")
    def _sources_add_up(self) -> OrderAcceptedV1:
        if not self.sources:
            if any(x.source_order_id for x in self.lines):
                raise ValueError("a line names a source order, but the order has no sources")
            return self
        ids = [s.order_id for s in self.sources]
        if len(set(ids)) != len(ids):
            raise ValueError("a source order is listed twice")
        if stray := [x.line_id for x in self.lines if x.source_order_id not in ids]:
            raise ValueError(f"lines {stray} name no source of the order")
        for f in ("goods_paid_cents", "post_fee_cents", "paid_cents"):
            if sum(getattr(s, f) for s in self.sources) != getattr(self, f):
                raise ValueError(f"the sources' {f} do not add up to the order's")
        return self


@event("order.exception-raised", 1, Topic.ORDER)
class OrderExceptionRaisedV1(EventPayload):
    """An order stopped in the exception state; `reason` says why in words an operator can act on."""

    order_id: str
    channel: Code
    channel_order_id: str
    reason_code: str
    reason: str


@event("order.status-changed", 1, Topic.ORDER)
class OrderStatusChangedV1(EventPayload):
    """Every transition of the order state machine."""

    order_id: str
    from_status: str
    to_status: str
    reason: str = ""


@event("order.cancelled", 1, Topic.ORDER)
class OrderCancelledV1(EventPayload):
    """The order was cancelled: its reservations are to be released."""

    order_id: str
    reason: str


@event("order.completed", 1, Topic.ORDER)
class OrderCompletedV1(EventPayload):
    order_id: str
    completed_at: AwareDatetime


@event("order.payment-received", 1, Topic.ORDER)
class OrderPaymentReceivedV1(EventPayload):
    """An order taken on account (payment on_account) was paid: its receivable is cleared and the buyer's
    open credit goes down by the amount. Recorded by the OMS, once per order."""

    order_id: str
    channel: Code
    channel_order_id: str
    credit_account: str
    amount_cents: int = Field(gt=0)
    currency: Currency = "CNY"
    reference: str = Field("", max_length=200, description="the payment's reference (a bank slip, a statement)")
    source: Literal["channel", "operator"] = Field(
        description="channel: the platform delivered the order again as paid; operator: recorded through REST"
    )
    received_at: AwareDatetime
