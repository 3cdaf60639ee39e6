"""Orders as received from channels, normalised by the channel adapters."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, Field

from ..envelope import EventPayload
from ..registry import REGISTRY, event
from ..topics import Topic
from .common import Code, Currency, NonNegCents, Qty, Value


class Address(Value):
    """A delivery address. Personal data: never log it."""

    name: str = ""
    phone: str = ""
    country: str = "CN"
    state: str = Field("", description="province")
    city: str = ""
    district: str = ""
    town: str = ""
    detail: str = ""
    zip: str = ""


class InvoiceRequest(Value):
    kind: Literal["electronic_normal", "electronic_special", "paper"] = "electronic_normal"
    title: str
    tax_id: str | None = None


class ChannelOrderLine(Value):
    channel_line_id: str = Field(min_length=1, description="oid on Taobao/Tmall")
    channel_item_id: str = Field(min_length=1, description="num_iid")
    channel_sku_id: str | None = None
    outer_sku_id: str | None = None
    outer_iid: str | None = None
    title: str = ""
    qty: Qty
    unit_price_cents: NonNegCents
    paid_cents: NonNegCents = Field(description="what the buyer paid for this line after every discount")
    discount_cents: NonNegCents = 0


@event("channel.order.received", 1, Topic.CHANNEL_ORDERS)
class ChannelOrderReceivedV1(EventPayload):
    """A paid order as a channel delivered it, normalised. Key: `<channel>:<channel_order_id>`."""

    channel: Code
    shop_id: Code
    channel_order_id: str = Field(min_length=1)
    channel_status: str = Field(description="the platform's own status, e.g. WAIT_SELLER_SEND_GOODS")
    business_model: Literal["B2C", "O2O", "S2B2C", "B2B", "BBC"] = "B2C"
    delivery: Literal["express", "store_pickup", "same_city"] = "express"
    pickup_node: str | None = Field(
        None, description="the store chosen for pickup, when delivery is store_pickup"
    )
    buyer_id: str = ""
    receiver: Address
    lines: list[ChannelOrderLine] = Field(min_length=1)
    goods_cents: NonNegCents = Field(description="Σ price × qty before discounts (total_fee)")
    discount_cents: NonNegCents = 0
    post_fee_cents: NonNegCents = 0
    paid_cents: NonNegCents = Field(description="what the buyer paid, freight included (payment)")
    currency: Currency = "CNY"
    created_at: AwareDatetime
    paid_at: AwareDatetime | None = None
    received_at: AwareDatetime
    buyer_message: str = ""
    invoice: InvoiceRequest | None = None


# v2 (issue #9: JD, Pinduoduo, Douyin, Xiaohongshu, Youzan beside Tmall) adds, all optional with defaults:
# - `protected_receiver`: the receiver as the platform protects it (ciphertexts, masks and its merge key:
#   Taobao `oaid`, PDD / Douyin / Xiaohongshu `open_address_id`, Douyin `encrypt_post_receiver` / `_tel`),
#   kept exactly as given (decrypting is the platform's own API); `receiver` then holds the masked values;
# - per line `refund_status` (neutral) and `platform_refund_status` (the platform's own value);
# - `presale_stage`;
# - `buyer_message` (already in v1) and `seller_memo`.
# Every v1 event is valid v2 data (the upcaster changes nothing), and v2 only adds optional fields
# (readable_as=1: a v1 reader reads a v2 through its own schema).
RefundStatus = Literal["none", "requested", "refunding", "refunded", "closed"]
PresaleStage = Literal["none", "deposit_paid", "final_paid"]


class ProtectedReceiver(Value):
    """The receiver as the platform protects it. Personal data: never log it. Ciphertexts are opaque
    strings to decrypt through the platform; masks are for display; `merge_key` is the platform's id of
    (buyer, address) that it lets orders be merged by (`merge_key_kind` says which id it is)."""

    merge_key: str = ""
    merge_key_kind: Literal["", "oaid", "open_address_id"] = ""
    name_cipher: str = ""
    phone_cipher: str = ""
    address_cipher: str = Field("", description="the detail address (or the full one) as ciphertext")
    name_mask: str = ""
    phone_mask: str = ""
    address_mask: str = ""


class ChannelOrderLineV2(ChannelOrderLine):
    refund_status: RefundStatus = "none"
    platform_refund_status: str = Field("", description="the platform's own refund / after-sale status")


@event("channel.order.received", 2, Topic.CHANNEL_ORDERS, readable_as=1)
class ChannelOrderReceivedV2(ChannelOrderReceivedV1):
    """A paid order as a channel delivered it, normalised, with the protected receiver, per-line refund
    status and presale stage. Key: `<channel>:<channel_order_id>`."""

    lines: list[ChannelOrderLineV2] = Field(min_length=1)  # type: ignore[assignment]
    protected_receiver: ProtectedReceiver | None = None
    presale_stage: PresaleStage = Field(
        "none",
        description="none: no presale; final_paid: deposit and balance paid; deposit_paid: only the deposit",
    )
    seller_memo: str = ""
    distributors: list[Code] = Field(
        default_factory=list,
        max_length=3,
        description="S2B2C: the platform's distribution chain for this order, nearest first (up to 3 levels)",
    )
    payment: Literal["paid", "on_account"] = Field(
        "paid",
        description="on_account: a B2B order the platform delivered unpaid on credit terms (1688 period / "
        "creditBuy trade types), taken in only for a shop that accepts orders on account",
    )
    payment_terms: str = Field(
        "", max_length=64, description="the platform's own payment type, e.g. 1688 tradeTypeCode `period`"
    )
    due_at: AwareDatetime | None = Field(None, description="on_account: the due date, when the platform says")


@REGISTRY.upcaster("channel.order.received", 1)
def _order_received_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    return data


# -- after-sales (issue #9): refunds and closures, on the channel orders topic, keyed like the order --
RefundKind = Literal["refund_only", "return_and_refund", "exchange"]
RefundState = Literal[
    "requested", "agreed", "awaiting_return", "returned", "refused", "refunded", "closed", "unknown"
]
CloseReason = Literal[
    "buyer_cancel", "seller_cancel", "platform_close", "unpaid_timeout", "refunded", "unknown"
]


class ChannelRefundLine(Value):
    channel_line_id: str = Field(min_length=1, description="the platform's line id (Taobao oid)")
    channel_sku_id: str | None = None
    outer_sku_id: str | None = None
    qty: Qty | None = Field(None, description="units returned or refunded, when the platform says")
    refund_cents: NonNegCents = 0


@event("channel.refund.received", 1, Topic.CHANNEL_ORDERS)
class ChannelRefundReceivedV1(EventPayload):
    """A refund, return or exchange as a channel delivered it, normalised; one per (refund id, status): a
    repeated delivery publishes nothing new. Key: `<channel>:<channel_order_id>`."""

    channel: Code
    shop_id: Code
    channel_order_id: str = Field(min_length=1)
    channel_refund_id: str = Field(min_length=1)
    kind: RefundKind
    status: RefundState
    channel_status: str = Field(description="the platform's own refund status, e.g. WAIT_SELLER_AGREE")
    lines: list[ChannelRefundLine] = Field(default_factory=list)
    refund_cents: NonNegCents = Field(description="what the buyer gets back")
    currency: Currency = "CNY"
    reason: str = ""
    requested_at: AwareDatetime | None = None
    modified_at: AwareDatetime | None = None
    received_at: AwareDatetime


@event("channel.order.closed", 1, Topic.CHANNEL_ORDERS)
class ChannelOrderClosedV1(EventPayload):
    """A platform order closed or cancelled (buyer, seller, platform, unpaid timeout, full refund); once per
    order. Key: `<channel>:<channel_order_id>`."""

    channel: Code
    shop_id: Code
    channel_order_id: str = Field(min_length=1)
    reason: CloseReason
    channel_status: str = Field(description="the platform's own status, e.g. TRADE_CLOSED")
    closed_at: AwareDatetime | None = None
    received_at: AwareDatetime


@event("channel.shipment-writeback.refused", 1, Topic.CHANNEL_ORDERS)
class ChannelShipmentWritebackRefusedV1(EventPayload):
    """The platform permanently refused a shipment write-back (a closed order, already shipped under
    another number, a carrier it does not know): shown on the order; not retried until an operator asks.
    Key: `<channel>:<channel_order_id>`."""

    order_id: str = Field(min_length=1, description="Omni's order id")
    writeback_id: str = Field(min_length=1, description="the shipped fulfillment task")
    channel: Code
    shop_id: Code
    channel_order_id: str = Field(min_length=1)
    carrier: str = Field(description="Omni's carrier code, e.g. SF")
    company_code: str | None = Field(None, description="the platform's code of the carrier, when sent")
    tracking_no: str
    reason: str = Field(description="why, in the platform's words")
    refused_at: AwareDatetime


def channel_order_key(channel: str, channel_order_id: str) -> str:
    return f"{channel}:{channel_order_id}"


__all__ = [
    "Address",
    "ChannelOrderClosedV1",
    "ChannelOrderLine",
    "ChannelOrderLineV2",
    "ChannelOrderReceivedV1",
    "ChannelOrderReceivedV2",
    "ChannelRefundLine",
    "ChannelRefundReceivedV1",
    "ChannelShipmentWritebackRefusedV1",
    "InvoiceRequest",
    "ProtectedReceiver",
    "channel_order_key",
]
