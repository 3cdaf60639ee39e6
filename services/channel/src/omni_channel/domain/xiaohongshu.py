"""Xiaohongshu (小红书) `order.getOrderDetail` data -> `channel.order.received` v2. Pure.
See docs/platforms/xiaohongshu.md.

Shapes: `{"data": {...}, "error_code": 0, "success": true}` (the system parameters appId, timestamp, …
may sit beside `data`), or the bare order.
Money: integer fen; times: milliseconds. `skuList[]` aggregates same-sku units: `totalPaidAmount` is the
line's paid, the unit price is (paid + merchant discount + platform discount) / quantity (rounded up when
it does not divide: the line's discount then absorbs the cent). Σ totalPaidAmount + totalShippingFree must
be totalPayAmount. The line id is the `skuId` (unique per order, since lines are aggregated).
Published: orderStatus 4 (待发货) and 5 (部分发货), unless a cancellation is in progress (cancelStatus 1).
Receiver: only the region is given (the platform withholds the rest); merge key `openAddressId`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from omni_contracts.events.channel import Address, ProtectedReceiver

from .errors import InvalidTrade, Problem
from .money import fen_to_cents
from .normal import (
    Accepted,
    Line,
    NotForFulfilment,
    Order,
    Problems,
    amount,
    build,
    count,
    epoch_time,
    exact_id,
    list_at,
    txt,
)
from .tmall_fields import is_int, kind

CHANNEL = "xiaohongshu"
FULFIL = {4: "待发货", 5: "部分发货"}
NOT_FOR_FULFILMENT = {
    1: "not paid yet",
    2: "paid, still being processed by the platform",
    3: "in customs clearance",
    6: "already shipped",
    7: "finished",
    8: "closed",
    9: "cancelled",
    10: "an exchange is being requested",
}
AFTER_SALE = {1: "none", 2: "refunding", 3: "refunded", 4: "closed", 5: "closed", 6: "refunding", 7: "closed"}
CLOSES = {"8": "refunded", "9": "buyer_cancel"}  # orderStatus 已关闭 (after a full refund) / 已取消


def close_of(doc: Any, status: str) -> tuple[str, str] | None:
    """(the raw status, the close reason) when this order push is a close, else None."""
    return (status, CLOSES[status]) if status in CLOSES else None


PRESALE_TYPES = (2, 3, 4)


def unwrap(doc: Any) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise InvalidTrade([Problem("$", f"xiaohongshu: the body must be a JSON object, got {kind(doc)}")])
    if doc.get("success") is False or doc.get("error_code") not in (None, 0, "0"):
        raise InvalidTrade([Problem("error_code", "xiaohongshu: an error response, not an order")])
    if "data" in doc:
        if not isinstance(doc["data"], dict):
            raise InvalidTrade(
                [Problem("data", f"xiaohongshu: must be the order object, got {kind(doc['data'])}")]
            )
        return doc["data"]
    return doc


def normalise(doc: Any, *, shop_id: str, received_at: datetime) -> Accepted | NotForFulfilment:
    o = unwrap(doc)
    p = Problems()
    order_id = exact_id(o, "orderId", "", p)
    status = o.get("orderStatus")
    if not is_int(status):
        p.add("orderStatus", "missing" if status is None else f"must be an integer, got {kind(status)}")
    elif status not in FULFIL and status not in NOT_FOR_FULFILMENT:
        p.add("orderStatus", f"unknown Xiaohongshu orderStatus {status}")
    if p:
        raise InvalidTrade(p.items)
    assert order_id is not None and is_int(status)
    code = str(status)
    if status in NOT_FOR_FULFILMENT:
        return NotForFulfilment(order_id, code, f"orderStatus {status}: {NOT_FOR_FULFILMENT[status]}")
    if o.get("cancelStatus") == 1:
        return NotForFulfilment(order_id, code, "cancelStatus 1: the buyer asked to cancel")

    f = fen_to_cents
    pay = amount(o, "totalPayAmount", "", p, f, required=True)
    post = amount(o, "totalShippingFree", "", p, f) or 0
    lines = []
    for i, s in enumerate(list_at(o, "skuList", "", p, required=True)):
        path = f"skuList[{i}]."
        qty = count(s, "skuQuantity", path, p)
        paid = amount(s, "totalPaidAmount", path, p, f, required=True)
        merchant = amount(s, "totalMerchantDiscount", path, p, f) or 0
        red = amount(s, "totalRedDiscount", path, p, f) or 0
        price = None if paid is None or qty is None else -(-(paid + merchant + red) // qty)
        after = s.get("skuAfterSaleStatus", 1)
        sku = exact_id(s, "skuId", path, p)
        lines.append(
            Line(
                path=path.rstrip("."),
                line_id=sku,
                item_id=exact_id(s, "itemId", path, p, required=False) or sku,
                sku_id=sku,
                outer_sku_id=txt(s, "erpcode", path, p, 128) or None,
                outer_iid=None,
                title=txt(s, "skuName", path, p, 200),
                qty=qty,
                price=price,
                paid=paid,
                refund_status=AFTER_SALE.get(after, "none") if is_int(after) else "none",
                platform_refund_status=str(after)[:32],
            )
        )
    open_address_id = txt(o, "openAddressId", "", p, 256)
    receiver = Address(
        country="CN",
        state=txt(o, "receiverProvinceName", "", p, 60),
        city=txt(o, "receiverCityName", "", p, 60),
        district=txt(o, "receiverDistrictName", "", p, 60),
    )
    return build(
        Order(
            channel=CHANNEL,
            shop_id=shop_id,
            order_id=order_id,
            status=code,
            lines=lines,
            post_fee=post,
            paid=pay or 0,
            paid_path="totalPayAmount",
            created_at=epoch_time(o, "createdTime", "", p, millis=True, required=True),
            paid_at=epoch_time(o, "paidTime", "", p, millis=True),
            received_at=received_at,
            receiver=receiver,
            protected=ProtectedReceiver(merge_key=open_address_id, merge_key_kind="open_address_id")
            if open_address_id
            else None,
            buyer_id=txt(o, "userId", "", p, 128),
            buyer_message=txt(o, "customerRemark", "", p),
            seller_memo=txt(o, "sellerRemark", "", p),
            presale_stage="final_paid" if o.get("orderType") in PRESALE_TYPES else "none",
        ),
        p,
    )
