"""After-sales 售后 of an order (OMS): refunds, returns, exchanges, reships, repairs and compensation.
Published by the order service on omni.order, keyed by the order id (so they stay in order with the
order's own lifecycle events). A reship or an exchange's new outbound is not an event of its own: it is
a new order of 0 paid, announced by `order.accepted` like any other, so fulfillment and finance need
nothing new for it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from ..envelope import EventPayload
from ..registry import event
from ..topics import Topic
from .common import Code, Currency, NonNegCents, Qty, Value

CaseKind = Literal[
    "refund_before_shipment",
    "refund_after_shipment",
    "return_and_refund",
    "exchange",
    "reship",
    "repair",
    "compensation",
    "platform_close",
]


class RefundedLine(Value):
    """What is refunded of one material line of the order, to the fen."""

    line_id: str = Field(min_length=1, description="the order's material line (order.accepted lines[])")
    material_code: Code
    qty: int = Field(ge=0, description="units refunded (0: money only, no units)")
    refund_cents: NonNegCents


@event("order.refund-approved", 1, Topic.ORDER)
class OrderRefundApprovedV1(EventPayload):
    """The platform refunded the buyer (part of) an order that goes on, or that already shipped. A whole
    order refunded before it ships is cancelled instead (order.cancelled: its sale is reversed), never both.
    The lines add up to `goods_refund_cents`; `refund_cents` = goods + freight refunded."""

    case_id: str = Field(min_length=1)
    order_id: str = Field(min_length=1)
    channel: Code
    channel_order_id: str
    channel_refund_id: str | None = None
    kind: CaseKind
    before_shipment: bool = Field(description="nothing of the order had left when the refund was approved")
    lines: list[RefundedLine] = Field(default_factory=list)
    goods_refund_cents: NonNegCents
    freight_refund_cents: NonNegCents = 0
    refund_cents: NonNegCents
    currency: Currency = "CNY"
    approved_at: AwareDatetime


class ReturnLine(Value):
    line_id: str = Field(min_length=1)
    material_code: Code
    qty: Qty


@event("order.return-expected", 1, Topic.ORDER)
class OrderReturnExpectedV1(EventPayload):
    """Goods are coming back to the node that shipped them (a return, an exchange's return, a repair)."""

    case_id: str = Field(min_length=1)
    order_id: str = Field(min_length=1)
    kind: CaseKind
    node_code: Code
    lines: list[ReturnLine] = Field(min_length=1)
    expected_at: AwareDatetime


class InspectedLine(Value):
    line_id: str = Field(min_length=1)
    material_code: Code
    good_qty: int = Field(ge=0, description="back into the node's good (sellable) stock")
    defective_qty: int = Field(ge=0, description="into the node's defective stock")


@event("order.return-received", 1, Topic.ORDER)
class OrderReturnReceivedV1(EventPayload):
    """A return arrived at a node and was inspected: good units restock, defective ones go to defective."""

    case_id: str = Field(min_length=1)
    order_id: str = Field(min_length=1)
    kind: CaseKind
    node_code: Code
    restock: bool = Field(True, description="false for a repair: the goods are the buyer's, not stock")
    lines: list[InspectedLine] = Field(min_length=1)
    received_at: AwareDatetime


@event("order.compensation-granted", 1, Topic.ORDER)
class OrderCompensationGrantedV1(EventPayload):
    """Money only (赔付): the buyer is compensated through the platform; nothing comes back."""

    case_id: str = Field(min_length=1)
    order_id: str = Field(min_length=1)
    channel: Code
    channel_order_id: str
    amount_cents: int = Field(gt=0)
    currency: Currency = "CNY"
    reason: str = ""
    granted_at: AwareDatetime


__all__ = [
    "CaseKind",
    "InspectedLine",
    "OrderCompensationGrantedV1",
    "OrderRefundApprovedV1",
    "OrderReturnExpectedV1",
    "OrderReturnReceivedV1",
    "RefundedLine",
    "ReturnLine",
]
