"""Parts of a Taobao/Tmall trade read by tmall.py (pure): the receiver, the invoice request, the delivery
method (store pickup), and the v2 refund status map. See tmall.py's module doc for the rules."""

from __future__ import annotations

from typing import Any

from omni_contracts.events.channel import Address, InvoiceRequest

from .tmall_fields import Problems as _Problems
from .tmall_fields import capped as _capped
from .tmall_fields import text as _text

# the order's refund_status (taobao.md) -> channel.order.received v2's neutral refund status
REFUND_STATUSES: dict[str, str] = {
    "NO_REFUND": "none",
    "WAIT_SELLER_AGREE": "requested",
    "WAIT_BUYER_RETURN_GOODS": "refunding",
    "WAIT_SELLER_CONFIRM_GOODS": "refunding",
    "SELLER_REFUSE_BUYER": "closed",
    "CLOSED": "closed",
    "SUCCESS": "refunded",
}
INVOICE_KINDS = {"1": "electronic_normal", "2": "paper", "3": "electronic_special"}


def address(trade: dict[str, Any], p: _Problems) -> Address:
    def field(key: str) -> str:
        return _capped(trade, key, p)

    city, district, country = field("receiver_city"), field("receiver_district"), field("receiver_country")
    return Address(
        name=field("receiver_name"),
        phone=field("receiver_mobile") or field("receiver_phone"),
        country="CN" if country in ("", "中国", "CN", "China") else country,
        state=field("receiver_state"),
        city=city or district,
        district=district,
        town=field("receiver_town"),
        detail=field("receiver_address"),
        zip=field("receiver_zip"),
    )


def invoice(trade: dict[str, Any], p: _Problems) -> InvoiceRequest | None:
    title = _capped(trade, "invoice_name", p)
    if not title:
        return None
    raw_kind = _text(trade.get("invoice_kind"))
    kind = INVOICE_KINDS.get(raw_kind or "1")
    if kind is None:
        p.add("invoice_kind", f"unknown invoice kind {raw_kind!r} (1 electronic, 2 paper, 3 special VAT)")
        return None
    invoice_type = _capped(trade, "invoice_type", p).lower()
    if kind == "electronic_normal" and ("专用" in invoice_type or "special" in invoice_type):
        kind = "electronic_special"
    return InvoiceRequest(kind=kind, title=title, tax_id=_capped(trade, "buyer_tax_no", p) or None)


def delivery(trade: dict[str, Any], p: _Problems) -> tuple[str, str | None]:
    if trade.get("o2o_delivery") == "inshop" or trade.get("rt_omni_send_type") == "pickUp":
        for key in ("rt_omni_outer_store_id", "rt_omni_store_id", "o2o_shop_id"):
            store = _capped(trade, key, p)
            if store:
                return "store_pickup", store
        return "store_pickup", None
    return "express", None
