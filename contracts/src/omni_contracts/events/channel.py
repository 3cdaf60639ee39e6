"""Orders as received from channels, normalised by the channel adapters."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from ..envelope import EventPayload
from ..registry import event
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


def channel_order_key(channel: str, channel_order_id: str) -> str:
    return f"{channel}:{channel_order_id}"


__all__ = ["Address", "ChannelOrderLine", "ChannelOrderReceivedV1", "InvoiceRequest", "channel_order_key"]
