"""Store sales (POS, 门店销售): a completed sale or a till return as a store's POS recorded it, normalised by
the channel adapter (issue #9). Not an order: nothing is sourced, reserved or shipped. Inventory takes the
goods out of (or back into) the store node's stock; finance books the takings at once.

Both travel on omni.channel.orders (the channel adapters' stream) keyed `pos:<shop_id>:<sale_uid>`; the order
service reads only `channel.order.received` there, so neither becomes an order or a fulfillment task.
Amounts are integer fen and never negative: a return says what went back, on its own event type.
"""

from __future__ import annotations

from pydantic import AwareDatetime, Field

from ..envelope import EventPayload
from ..registry import event
from ..topics import Topic
from .common import Code, Currency, NonNegCents, Qty, Value


class StoreSaleLine(Value):
    line_id: str = Field(min_length=1, description="the POS's own line id within the sale")
    sales_product_code: Code = Field(description="our SKU (sales product), resolved through the POS listing")
    pos_product_id: str = Field(min_length=1, description="the POS's product id (Odoo product.product id)")
    title: str = ""
    qty: Qty
    unit_price_cents: NonNegCents
    paid_cents: NonNegCents = Field(
        description="what the customer paid for the line, tax included, after the line's discount and its "
        "share of the order-level discounts and rewards"
    )
    discount_cents: NonNegCents = Field(0, description="qty × unit price − paid")


class StorePayment(Value):
    method: Code = Field(description="our tender: cash, bank_card, wechat, alipay, … as the store maps it")
    pos_method: str = Field(description="the POS's own tender id, e.g. payment_method_id:2 or journal_id:5")
    amount_cents: NonNegCents = Field(description="tendered (a sale) or paid back (a return)")
    transaction_id: str = ""


class _StoreTicket(EventPayload):
    """What a store sale and a till return share (not an event of its own)."""

    channel: Code = "pos"
    shop_id: Code
    node_code: Code = Field(description="the store node whose stock the goods left (or came back to)")
    sale_uid: str = Field(min_length=1, description="the POS's id of the sale or return (Odoo uid)")
    name: str = ""
    pos_session_id: str = ""
    total_cents: NonNegCents = Field(description="Σ lines' paid_cents, tax included: taken, or given back")
    tax_cents: NonNegCents = Field(description="the output VAT included in total_cents")
    payments: list[StorePayment] = Field(default_factory=list)
    change_cents: NonNegCents = Field(0, description="cash given back: Σ payments − change = total")
    currency: Currency = "CNY"
    occurred_at: AwareDatetime
    received_at: AwareDatetime


@event("channel.store-sale.recorded", 1, Topic.CHANNEL_ORDERS)
class StoreSaleRecordedV1(_StoreTicket):
    """A completed store sale, paid at the till. Key: `pos:<shop_id>:<sale_uid>`; once per sale uid."""

    lines: list[StoreSaleLine] = Field(min_length=1)


class StoreReturnLine(StoreSaleLine):
    refunded_line_ref: str | None = Field(
        None, description="the POS's id of the sold line this returns (Odoo refunded_orderline_id)"
    )


@event("channel.store-return.recorded", 1, Topic.CHANNEL_ORDERS)
class StoreReturnRecordedV1(_StoreTicket):
    """Goods brought back to a store's till and refunded; they go back into the store's good stock. Key:
    `pos:<shop_id>:<sale_uid>` (the return's own uid); once per return uid."""

    lines: list[StoreReturnLine] = Field(min_length=1)


def store_sale_key(shop_id: str, sale_uid: str) -> str:
    return f"pos:{shop_id}:{sale_uid}"


__all__ = [
    "StorePayment",
    "StoreReturnLine",
    "StoreReturnRecordedV1",
    "StoreSaleLine",
    "StoreSaleRecordedV1",
    "store_sale_key",
]
