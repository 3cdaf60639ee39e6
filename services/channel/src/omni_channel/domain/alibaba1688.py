"""1688 (阿里巴巴 1688.com, B2B wholesale) seller-view order detail (`alibaba.trade.get.sellerView`) ->
`channel.order.received` v2. Pure. See docs/platforms/1688.md (every fact there says where it comes from).

Channel code `alibaba`: the channel path and shop routes want a code that starts with a letter.
Shapes: `{"result": {"baseInfo", "productItems", "tradeTerms", "orderBizInfo", "nativeLogistics", …}}` or the
bare `result`. An error answer (`errorCode` / `success: false`) and a list answer are refused.

Money: `totalAmount`, `shippingFee`, `sumProductPayment`, `price`, `itemAmount`, `couponFee` are BigDecimal
**yuan** (JSON numbers, read as Decimal; yuan strings are read too). `discount` and `entryDiscount` are Long
**fen**, negative for a reduction. Checked: totalAmount = Σ itemAmount + shippingFee; sumProductPayment =
Σ price × quantity; price × quantity + entryDiscount = itemAmount per line; discount = Σ itemAmount −
Σ price × quantity (unless a `couponFee` is given: whether the red packet is in `discount` is not
documented). A line's paid amount is its `itemAmount`.
Times: `20181022123422000+0800` (yyyyMMddHHmmssSSS and the offset); `yyyy-MM-dd HH:mm:ss` (GMT+8) is read too.

Payment: `tradeTypeCode` `period` (普通账期交易) and `creditBuy` (诚E赊) are credit terms (as is the numeric
`tradeType` 10 when no code is given). Such an order in waitbuyerpay or waitsellersend without a `payTime`
(or whose tradeTerms say payStatus 12, 账期支付待到账) is `on_account`: taken in only when the shop accepts
orders on account, else answered "not accepted" saying so. Any other waitsellersend order is `paid`; any
other waitbuyerpay is "not paid yet". `payment_terms` is the tradeTypeCode (else the numeric tradeType);
`due_at` is `orderBizInfo.accountPeriodTime` (period) or `creditOrderDetail.lastRepayTime` /
`gracePeriodEndTime` (creditBuy), only when given. On account, `paid_cents` is the amount payable.
Receiver: `baseInfo.receiverInfo` and `nativeLogistics`, kept as 1688 gives them (its privacy protection may
mask them) in `receiver` and as masks in `protected_receiver`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from omni_contracts.events.channel import Address, ProtectedReceiver

from .errors import InvalidTrade, Problem
from .money import signed_fen_to_cents, yuan_text_or_number_to_cents
from .normal import (
    Accepted,
    Line,
    NotForFulfilment,
    Order,
    Problems,
    amount,
    build,
    china_time,
    exact_id,
    list_at,
    obj_at,
    txt,
)
from .tmall_fields import is_int, kind

CHANNEL = "alibaba"
ON_ACCOUNT_CODES = frozenset({"period", "creditBuy"})  # 普通账期交易, 诚E赊
ON_ACCOUNT_TRADE_TYPES = frozenset({"10"})  # 账期支付交易 (the numeric tradeType), when no code is given
PERIOD_PENDING = "12"  # tradeTerms.payStatus: 账期支付, 待到账
FULFIL = frozenset({"waitsellersend"})
NOT_FOR_FULFILMENT = {
    "waitbuyerpay": "not paid yet",
    "waitlogisticstakein": "already handed to the carrier (cash on delivery)",
    "waitbuyerreceive": "already shipped",
    "waitbuyersign": "already shipped (cash on delivery)",
    "signinsuccess": "already received (cash on delivery)",
    "confirm_goods": "already received",
    "success": "finished",
    "cancel": "cancelled",
    "terminated": "terminated",
    "unenumerated": "a status 1688 does not enumerate",
}
CLOSES = frozenset({"cancel", "terminated"})
# baseInfo.closeOperateType / closeReason -> why the order closed
CLOSE_OPERATE = {"CLOSE_TRADE_BY_BUYER": "buyer_cancel", "CLOSE_TRADE_BY_SELLER": "seller_cancel",
                 "CLOSE_TRADE_BY_SYSTEM": "unpaid_timeout", "CLOSE_TRADE_BY_BOPS": "platform_close",
                 "CLOSE_TRADE_BY_CREADIT": "platform_close"}  # fmt: skip
CLOSE_REASON = {
    "buyerCancel": "buyer_cancel",
    "sellerGoodsLack": "seller_cancel",
    "BUYER_NO_PAY": "unpaid_timeout",
}
REFUND = {"WAIT_SELLER_AGREE": "requested", "WAIT_BUYER_MODIFY": "requested",
          "WAIT_BUYER_SEND": "refunding", "WAIT_SELLER_RECEIVE": "refunding", "REFUND_SUCCESS": "refunded",
          "REFUND_CLOSED": "closed"}  # fmt: skip
_TIME = re.compile(r"^([0-9]{14})([0-9]{3})([+-])([0-9]{2})([0-9]{2})$")
B = "baseInfo."


def unwrap(doc: Any) -> dict[str, Any]:
    """The TradeInfo (`result`) of a sellerView answer, or the bare one."""
    if not isinstance(doc, dict):
        raise InvalidTrade(
            [Problem("$", f"alibaba: the body must be a JSON object (a TradeInfo), got {kind(doc)}")]
        )
    if doc.get("errorCode") or doc.get("success") in (False, "false"):
        raise InvalidTrade([Problem("errorCode", "alibaba: this is a 1688 error answer, not an order")])
    if "result" in doc:
        inner = doc["result"]
        if isinstance(inner, list):
            raise InvalidTrade(
                [Problem("result", "alibaba: a list answer; push one order (sellerView) at a time")]
            )
        if not isinstance(inner, dict):
            raise InvalidTrade([Problem("result", f"alibaba: must be an object, got {kind(inner)}")])
        doc = inner
    if not isinstance(doc.get("baseInfo"), dict):
        raise InvalidTrade([Problem("baseInfo", "alibaba: missing: expected the order's baseInfo object")])
    return doc


def close_of(doc: Any, status: str) -> tuple[str, str] | None:
    """(the raw status, the close reason) when this push is a close (cancel, terminated), else None."""
    if status not in CLOSES:
        return None
    try:
        base = unwrap(doc)["baseInfo"]
    except InvalidTrade:
        return status, "unknown"
    operate, reason = base.get("closeOperateType"), base.get("closeReason")
    return status, CLOSE_OPERATE.get(operate) or CLOSE_REASON.get(reason) or "unknown"  # type: ignore[arg-type]


def normalise(
    doc: Any, *, shop_id: str, received_at: datetime, accepts_on_account: bool = False
) -> Accepted | NotForFulfilment:
    info = unwrap(doc)
    base = info["baseInfo"]
    p = Problems()
    order_id = exact_id(base, "idOfStr", B, p, required=False) or exact_id(base, "id", B, p)
    status = base.get("status")
    if status in (None, ""):
        p.add(f"{B}status", "missing")
    elif not isinstance(status, str):
        p.add(f"{B}status", f"must be a string, got {kind(status)}")
    elif status not in FULFIL and status not in NOT_FOR_FULFILMENT:
        p.add(f"{B}status", f"unknown 1688 order status {str(status)[:40]!r}")
    code = txt(base, "tradeTypeCode", B, p, 64)
    trade_type = txt(base, "tradeType", B, p, 64)
    paid_at = ali_time(base, "payTime", B, p)
    if p:
        raise InvalidTrade(p.items)
    assert order_id is not None
    terms = code or trade_type
    credit = code in ON_ACCOUNT_CODES or (not code and trade_type in ON_ACCOUNT_TRADE_TYPES)
    on_account = (
        credit and status in ("waitbuyerpay", "waitsellersend") and (paid_at is None or _pending(info))
    )
    if not on_account and status not in FULFIL:
        return NotForFulfilment(order_id, status, f"status {status}: {NOT_FOR_FULFILMENT[status]}")
    if on_account and not accepts_on_account:
        why = f"on account ({terms}), and shop {shop_id} does not accept orders on account"
        return NotForFulfilment(order_id, status, f"status {status}: {why}")

    y = yuan_text_or_number_to_cents
    total = amount(base, "totalAmount", B, p, y, required=True)
    shipping = amount(base, "shippingFee", B, p, y) or 0
    goods = amount(base, "sumProductPayment", B, p, y)
    discount = amount(base, "discount", B, p, signed_fen_to_cents)
    coupon = amount(base, "couponFee", B, p, y) or 0
    lines = [
        _line(it, f"productItems[{i}].", p)
        for i, it in enumerate(list_at(info, "productItems", "", p, required=True))
    ]
    if (
        discount is not None
        and not coupon
        and lines
        and all(None not in (ln.paid, ln.price, ln.qty) for ln in lines)
    ):
        delta = sum(ln.paid for ln in lines) - sum(ln.gross for ln in lines)  # type: ignore[misc]
        if delta != discount:
            p.add(f"{B}discount", f"{discount} fen is not Σ itemAmount − Σ price × quantity ({delta} fen)")

    biz = obj_at(info.get("orderBizInfo"), "orderBizInfo", p)
    return build(
        Order(
            channel=CHANNEL,
            shop_id=shop_id,
            order_id=order_id,
            status=status,
            lines=lines,
            post_fee=shipping,
            paid=total or 0,
            paid_path=f"{B}totalAmount",
            created_at=ali_time(base, "createTime", B, p, required=True),
            paid_at=None if on_account else paid_at,
            received_at=received_at,
            **_receiver(info, base, p),
            goods=goods,
            goods_path=f"{B}sumProductPayment",
            buyer_id=txt(base, "buyerID", B, p, 128)
            or txt(base, "buyerUserId", B, p, 128)
            or txt(base, "buyerLoginId", B, p, 128),
            buyer_message=txt(base, "buyerFeedback", B, p),
            seller_memo=txt(base, "sellerMemo", B, p),
            payment="on_account" if on_account else "paid",
            payment_terms=terms,
            due_at=_due(biz, code, p) if on_account else None,
        ),
        p,
    )


def _pending(info: dict[str, Any]) -> bool:
    """Whether a tradeTerms row says 账期支付, 待到账 (paid on account, the money not arrived)."""
    terms = info.get("tradeTerms")
    rows = terms if isinstance(terms, list) else []
    return any(isinstance(t, dict) and str(t.get("payStatus")) == PERIOD_PENDING for t in rows)


def _due(biz: dict[str, Any], code: str, p: Problems) -> datetime | None:
    if code == "creditBuy":
        detail = obj_at(biz.get("creditOrderDetail"), "orderBizInfo.creditOrderDetail", p)
        path = "orderBizInfo.creditOrderDetail."
        return ali_time(detail, "lastRepayTime", path, p) or ali_time(detail, "gracePeriodEndTime", path, p)
    return ali_time(biz, "accountPeriodTime", "orderBizInfo.", p)


def _line(it: dict[str, Any], path: str, p: Problems) -> Line:
    sub = exact_id(it, "subItemIDString", path, p, required=False) or exact_id(it, "subItemID", path, p)
    product = exact_id(it, "productID", path, p, required=False)
    spec = txt(it, "specId", path, p, 64)
    y = yuan_text_or_number_to_cents
    price = amount(it, "price", path, p, y, required=True)
    qty = quantity(it, "quantity", path, p)
    paid = amount(it, "itemAmount", path, p, y, required=True)
    entry = amount(it, "entryDiscount", path, p, signed_fen_to_cents)
    if entry is not None and None not in (price, qty, paid) and price * qty + entry != paid:  # type: ignore[operator]
        p.add(f"{path}entryDiscount", f"{entry} fen is not itemAmount − price × quantity "
              f"({paid - price * qty} fen)")  # type: ignore[operator]  # fmt: skip
    refund = txt(it, "refundStatus", path, p, 32)
    return Line(
        path=path.rstrip("."),
        line_id=sub,
        item_id=product or sub,
        sku_id=exact_id(it, "skuID", path, p, required=False) or spec or None,
        outer_sku_id=txt(it, "cargoNumber", path, p, 128) or None,
        outer_iid=txt(it, "productCargoNumber", path, p, 128) or None,
        title=txt(it, "name", path, p, 200),
        qty=qty,
        price=price,
        paid=paid,
        refund_status=REFUND.get(refund, "none"),
        platform_refund_status=refund,
    )


def _receiver(info: dict[str, Any], base: dict[str, Any], p: Problems) -> dict[str, Any]:
    r = obj_at(base.get("receiverInfo"), f"{B}receiverInfo", p)
    rp = f"{B}receiverInfo."
    n = obj_at(info.get("nativeLogistics"), "nativeLogistics", p)
    parts = txt(r, "toArea", rp, p, 500).split()
    # toArea ("浙江省 杭州市 西湖区 …", the whole address) fills the region where nativeLogistics is silent
    region = [txt(n, k, "nativeLogistics.", p, 60) or (parts[i] if i < len(parts) and i < 3 else "")
              for i, k in enumerate(("province", "city", "area", "town"))]  # fmt: skip
    receiver = Address(
        name=txt(r, "toFullName", rp, p, 100) or txt(n, "contactPerson", "nativeLogistics.", p, 100),
        phone=txt(r, "toMobile", rp, p, 40)
        or txt(r, "toPhone", rp, p, 40)
        or txt(n, "mobile", "nativeLogistics.", p, 40)
        or txt(n, "telephone", "nativeLogistics.", p, 40),
        state=region[0],
        city=region[1],
        district=region[2],
        town=region[3],
        detail=txt(n, "address", "nativeLogistics.", p, 500) or " ".join(parts),
        zip=txt(r, "toPost", rp, p, 20) or txt(n, "zip", "nativeLogistics.", p, 20),
    )
    protected = ProtectedReceiver(
        name_mask=receiver.name, phone_mask=receiver.phone, address_mask=receiver.detail
    )
    return {"receiver": receiver, "protected": protected}


def quantity(obj: dict[str, Any], key: str, path: str, p: Problems) -> int | None:
    """A whole positive quantity: 1688's BigDecimal `quantity` (with its `quantityFactor`) may be fractional
    (0.001 ton), which Omni, counting whole units, refuses."""
    value = obj.get(key)
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        value = int(value)
    if value is None or value == "":
        p.add(f"{path}{key}", "missing")
        return None
    if isinstance(value, Decimal):
        p.add(f"{path}{key}", f"a fractional quantity ({value}): Omni counts whole units")
        return None
    if not is_int(value) or value <= 0:
        p.add(f"{path}{key}", f"must be a positive whole quantity, got {kind(value)}")
        return None
    return value


def ali_time(
    obj: dict[str, Any], key: str, path: str, p: Problems, *, required: bool = False
) -> datetime | None:
    """1688's `20181022123422000+0800` (its Date fields) -> aware UTC; `yyyy-MM-dd HH:mm:ss` is GMT+8."""
    value = obj.get(key)
    if isinstance(value, str) and "-" in value[:8]:
        return china_time(obj, key, path, p, required=required)
    if value in (None, ""):
        if required:
            p.add(f"{path}{key}", "missing")
        return None
    m = _TIME.match(value) if isinstance(value, str) else None
    if m is None:
        p.add(f"{path}{key}", f"must be a 1688 time like '20181022123422000+0800', got {kind(value)}")
        return None
    stamp, ms, sign, hh, mm = m.groups()
    try:
        offset = timedelta(hours=int(hh), minutes=int(mm)) * (-1 if sign == "-" else 1)
        local = datetime.strptime(stamp, "%Y%m%d%H%M%S").replace(tzinfo=timezone(offset))
    except ValueError:
        p.add(f"{path}{key}", f"is not a time: {value!r}")
        return None
    return (local + timedelta(milliseconds=int(ms))).astimezone(UTC)
