"""JD POP `orderInfo` (`jingdong.pop.order.get`) -> `channel.order.received` v2. Pure.
See docs/platforms/jd.md.

Shapes: `{"jingdong_pop_order_get_responce": {"orderDetailInfo": {"orderInfo": {...}}}}` (JD's spelling),
`{"orderDetailInfo": {"orderInfo": …}}`, `{"orderInfo": …}` or the bare orderInfo.
Money: yuan strings; quantities (`itemTotal`) strings. There are no per-line amounts: rows of
`couponDetailList` with a `skuId` (30-单品促销) belong to that line, the rest are spread over the lines by
the largest remainder. The discount is goods + freight (+ tax + service fee) − paid; when
`couponDetailList` is given it must add up to it. Paid = `orderPayment` + `balanceUsed` (JD balance is the
buyer's money too). Tax and service fee travel with the freight in `post_fee_cents`.
Receiver: `fullname` / `fullAddress` are ciphertext, `mobile` masked, `desen_mobile` a token; kept as given.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from omni_contracts.events.channel import Address, ProtectedReceiver

from .errors import InvalidTrade, Problem
from .money import yuan_to_cents
from .normal import (
    Accepted,
    Line,
    NotForFulfilment,
    Order,
    Problems,
    allocate,
    amount,
    build,
    china_time,
    count,
    exact_id,
    list_at,
    obj_at,
    txt,
)
from .tmall_fields import kind, yuan

CHANNEL = "jd"
FULFIL = frozenset({"WAIT_SELLER_STOCK_OUT", "WAIT_SELLER_DELIVERY"})
NOT_FOR_FULFILMENT = {
    "WAIT_GOODS_RECEIVE_CONFIRM": "already shipped",
    "FINISHED_L": "already finished",
    "TRADE_CANCELED": "cancelled",
    "LOCKED": "locked (a refund or cancellation is pending)",
    "POP_ORDER_PAUSE": "paused by JD",
    "PAUSE": "paused",
    "WAIT_SEND_CODE": "a code order, nothing to ship",
    "SEND_TO_DISTRIBUTION_CENER": "fulfilled by JD (LBP/SOPL)",
    "DISTRIBUTION_CENTER_RECEIVED": "fulfilled by JD (LBP/SOPL)",
    "RECEIPTS_CONFIRM": "fulfilled by JD (LBP/SOPL)",
}
# orderState that close the order -> why (JD does not say who cancelled; LOCKED is a pending request)
CLOSES = {"TRADE_CANCELED": "unknown"}


def close_of(doc: Any, status: str) -> tuple[str, str] | None:
    """(the raw status, the close reason) when this order push is a close, else None."""
    return (status, CLOSES[status]) if status in CLOSES else None


def unwrap(doc: Any) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise InvalidTrade(
            [Problem("$", f"jd: the body must be a JSON object (an orderInfo), got {kind(doc)}")]
        )
    if "error_response" in doc:
        raise InvalidTrade([Problem("error_response", "jd: this is a JOS error response, not an order")])
    for key in ("jingdong_pop_order_get_responce", "orderDetailInfo", "orderInfo"):
        if key in doc:
            inner = doc[key]
            if not isinstance(inner, dict):
                raise InvalidTrade([Problem(key, f"jd: must be an object, got {kind(inner)}")])
            return unwrap(inner)
    return doc


def normalise(doc: Any, *, shop_id: str, received_at: datetime) -> Accepted | NotForFulfilment:
    info = unwrap(doc)
    p = Problems()
    order_id = exact_id(info, "orderId", "", p)
    state = info.get("orderState")
    if state in (None, ""):
        p.add("orderState", "missing")
    elif state not in FULFIL and state not in NOT_FOR_FULFILMENT:
        p.add("orderState", f"unknown JD order state {str(state)[:40]!r}")
    if p:
        raise InvalidTrade(p.items)
    assert order_id is not None
    if state not in FULFIL:
        return NotForFulfilment(order_id, state, f"orderState {state}: {NOT_FOR_FULFILMENT[state]}")

    y = yuan_to_cents
    goods = amount(info, "orderTotalPrice", "", p, y, required=True)
    seller_price = amount(info, "orderSellerPrice", "", p, y)
    seller_discount = amount(info, "sellerDiscount", "", p, y) or 0
    payment = amount(info, "orderPayment", "", p, y, required=True)
    balance = amount(info, "balanceUsed", "", p, y) or 0
    fees = sum(amount(info, k, "", p, y) or 0 for k in ("freightPrice", "taxFee", "serviceFee"))
    if goods is not None and seller_price is not None and goods - seller_discount != seller_price:
        p.add("orderSellerPrice", f"{yuan(seller_price)} is not orderTotalPrice − sellerDiscount")

    lines = [
        _line(it, f"itemInfoList[{i}].", p)
        for i, it in enumerate(list_at(info, "itemInfoList", "", p, required=True))
    ]
    coupons = list_at(info, "couponDetailList", "", p, required=False)
    paid = None if payment is None else payment + balance
    if (
        paid is not None
        and goods is not None
        and all(ln.price is not None and ln.qty is not None for ln in lines)
    ):
        discount = goods + fees - paid
        order_level = _coupons(coupons, lines, discount, p)
        if discount < 0:
            p.add(
                "orderPayment", f"jd: paid {yuan(paid)} is more than goods + freight ({yuan(goods + fees)})"
            )
        elif order_level is not None:
            allocate(lines, order_level, "couponDetailList", p)

    consignee = obj_at(info.get("consigneeInfo"), "consigneeInfo", p)
    c = "consigneeInfo."
    receiver = Address(
        name="",
        phone=txt(consignee, "mobile", c, p, 40) or txt(consignee, "telephone", c, p, 40),
        state=txt(consignee, "province", c, p, 60),
        city=txt(consignee, "city", c, p, 60),
        district=txt(consignee, "county", c, p, 60),
        town=txt(consignee, "town", c, p, 60),
        detail="",
    )
    protected = ProtectedReceiver(
        name_cipher=txt(consignee, "fullname", c, p, 2000),
        address_cipher=txt(consignee, "fullAddress", c, p, 4000),
        phone_cipher=txt(consignee, "desen_mobile", c, p, 500),
        phone_mask=receiver.phone,
    )
    return build(
        Order(
            channel=CHANNEL,
            shop_id=shop_id,
            order_id=order_id,
            status=state,
            lines=lines,
            post_fee=fees,
            paid=paid or 0,
            paid_path="orderPayment",
            created_at=china_time(info, "orderStartTime", "", p, required=True),
            paid_at=china_time(info, "paymentConfirmTime", "", p),
            received_at=received_at,
            receiver=receiver,
            protected=protected,
            goods=goods,
            goods_path="orderTotalPrice",
            buyer_id=txt(info, "open_id_buyer", "", p, 128) or txt(info, "pin", "", p, 128),
            buyer_message=txt(info, "orderRemark", "", p),
            seller_memo=txt(info, "venderRemark", "", p),
        ),
        p,
    )


def _line(it: dict[str, Any], path: str, p: Problems) -> Line:
    sku = exact_id(it, "skuId", path, p)
    return Line(
        path=path.rstrip("."),
        line_id=sku,
        item_id=exact_id(it, "wareId", path, p, required=False) or sku,
        sku_id=sku,
        outer_sku_id=txt(it, "outerSkuId", path, p, 128) or None,
        outer_iid=txt(it, "productNo", path, p, 128) or None,
        title=txt(it, "skuName", path, p, 200),
        qty=count(it, "itemTotal", path, p),
        price=amount(it, "jdPrice", path, p, yuan_to_cents, required=True),
    )


def _coupons(coupons: list[dict[str, Any]], lines: list[Line], discount: int, p: Problems) -> int | None:
    """Line-level coupon rows onto their line; returns what is left to spread (None when it cannot be)."""
    if not coupons:
        return discount
    by_sku = {ln.sku_id: ln for ln in lines}
    total = 0
    order_level = 0
    for i, row in enumerate(coupons):
        path = f"couponDetailList[{i}]."
        price = amount(row, "couponPrice", path, p, yuan_to_cents, required=True)
        if price is None:
            return None
        total += price
        sku = txt(row, "skuId", path, p, 64)
        if sku:
            if sku not in by_sku:
                p.add(f"{path}skuId", f"jd: coupon for sku {sku} that is on no line")
                return None
            by_sku[sku].discount += price
        else:
            order_level += price
    if total != discount:
        p.add(
            "couponDetailList",
            f"jd: the coupons add up to {yuan(total)}, but goods + freight − paid is {yuan(discount)}",
        )
        return None
    return order_level
