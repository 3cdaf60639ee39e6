"""Douyin Shop (抖店) `shop_order_detail` (`order.orderDetail`) -> `channel.order.received` v2. Pure.
See docs/platforms/douyin.md.

Shapes: `{"code": 10000, "data": {"shop_order_detail": {...}}}`, `{"shop_order_detail": {...}}` or bare.
Money: integer fen. Times: unix seconds. Per line (`sku_order_list[]`): unit price `origin_amount` (after
直降; `goods_price` when absent), paid = `order_amount` (the shop's coupon share already deducted) or, when
absent, `sum_amount` − `promotion_amount`. Σ line paid + `post_amount` must be the shop `order_amount`,
and paid is the shop `pay_amount` + `promotion_pay_amount` (a payment-channel discount is the buyer's
saving, not the merchant's). Ids: `product_id_str` over `product_id` (19 digits, > 2^53).
Published: order_status 105 (paid), 2 (备货中), 101 (part shipped); main_status 103 (deposit only) is not.
Receiver: `encrypt_post_receiver` / `encrypt_post_tel` / `post_addr.encrypt_detail` and the masks kept as
given; merge key `open_address_id`.
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
    obj_at,
    txt,
)
from .tmall_fields import is_int, kind, yuan

CHANNEL = "douyin"
FULFIL = {105: "已支付", 2: "备货中", 101: "部分发货"}
NOT_FOR_FULFILMENT = {
    1: "not paid yet",
    103: "only part paid",
    3: "already shipped",
    4: "cancelled",
    5: "finished",
}
REFUND = {0: "none", 1: "requested", 2: "refunding", 3: "refunded", 4: "closed"}
CANCELLED = 4
REFUNDED_MAIN = (21, 22, 39)  # main_status 发货前 / 发货后 / 收货后退款完结


def close_of(doc: Any, status: str) -> tuple[str, str] | None:
    """(the raw status, the close reason) when this order push is a close (order_status 4), else None."""
    if status != str(CANCELLED):
        return None
    return status, "refunded" if unwrap(doc).get("main_status") in REFUNDED_MAIN else "unknown"


def unwrap(doc: Any) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise InvalidTrade(
            [Problem("$", f"douyin: the body must be a JSON object (an order), got {kind(doc)}")]
        )
    if "code" in doc and doc.get("code") != 10000:
        raise InvalidTrade([Problem("code", f"douyin: an error response (code {str(doc.get('code'))[:20]})")])
    for key in ("data", "shop_order_detail"):
        if key in doc:
            if not isinstance(doc[key], dict):
                raise InvalidTrade([Problem(key, f"douyin: must be an object, got {kind(doc[key])}")])
            return unwrap(doc[key])
    return doc


def normalise(doc: Any, *, shop_id: str, received_at: datetime) -> Accepted | NotForFulfilment:
    o = unwrap(doc)
    p = Problems()
    order_id = exact_id(o, "order_id", "", p)
    status = o.get("order_status")
    main = o.get("main_status")
    if not is_int(status):
        p.add("order_status", "missing" if status is None else f"must be an integer, got {kind(status)}")
    elif status not in FULFIL and status not in NOT_FOR_FULFILMENT:
        p.add("order_status", f"unknown Douyin order_status {status}")
    if p:
        raise InvalidTrade(p.items)
    assert order_id is not None and is_int(status)
    code = str(status)
    if status in NOT_FOR_FULFILMENT:
        return NotForFulfilment(order_id, code, f"order_status {status}: {NOT_FOR_FULFILMENT[status]}")
    if main == 103:
        return NotForFulfilment(order_id, code, "main_status 103: only the deposit is paid")

    f = fen_to_cents
    shop_amount = amount(o, "order_amount", "", p, f, required=True)
    pay = amount(o, "pay_amount", "", p, f, required=True)
    pay_promo = amount(o, "promotion_pay_amount", "", p, f) or 0
    post = amount(o, "post_amount", "", p, f) or 0
    if None not in (shop_amount, pay) and shop_amount - pay_promo != pay:  # type: ignore[operator]
        p.add("pay_amount", f"douyin: {yuan(pay)} is not order_amount − promotion_pay_amount")  # type: ignore[arg-type]
    presale = "none"
    lines = []
    for i, s in enumerate(list_at(o, "sku_order_list", "", p, required=True)):
        path = f"sku_order_list[{i}]."
        qty = count(s, "item_num", path, p)
        price = amount(s, "origin_amount", path, p, f) if "origin_amount" in s else None
        if price is None:
            price = amount(s, "goods_price", path, p, f, required=True)
        paid = amount(s, "order_amount", path, p, f)
        if paid is None:
            gross = amount(s, "sum_amount", path, p, f, required=True)
            promo = amount(s, "promotion_amount", path, p, f) or 0
            paid = None if gross is None else gross - promo
        if "sum_amount" in s and price is not None and qty is not None:
            sum_amount = amount(s, "sum_amount", path, p, f)
            if sum_amount is not None and sum_amount != price * qty:
                p.add(f"{path}sum_amount", f"douyin: {yuan(sum_amount)} is not origin_amount × item_num")
        after = obj_at(s.get("after_sale_info"), f"{path}after_sale_info", p)
        refund = after.get("refund_status", 0)
        if s.get("trade_type") == 2:
            presale = "final_paid"
        lines.append(
            Line(
                path=path.rstrip("."),
                line_id=exact_id(s, "order_id", path, p),
                item_id=exact_id(s, "product_id", path, p),
                sku_id=exact_id(s, "sku_id", path, p, required=False),
                outer_sku_id=txt(s, "out_sku_id", path, p, 128) or txt(s, "code", path, p, 128) or None,
                outer_iid=txt(s, "out_product_id", path, p, 128) or None,
                title=txt(s, "product_name", path, p, 200),
                qty=qty,
                price=price,
                paid=paid if paid is not None else 0,
                refund_status=REFUND.get(refund, "none") if is_int(refund) else "none",
                platform_refund_status=str(refund)[:32] if refund is not None else "",
            )
        )
    if shop_amount is not None and all(ln.paid is not None for ln in lines):
        total = sum(ln.paid for ln in lines) + post  # type: ignore[misc]
        if total != shop_amount:
            p.add(
                "order_amount",
                f"douyin: {yuan(shop_amount)} is not Σ sku order_amount + post_amount ({yuan(total)})",
            )

    addr = obj_at(o.get("post_addr"), "post_addr", p)
    mask = obj_at(o.get("mask_post_addr"), "mask_post_addr", p)

    def region(a: dict[str, Any], key: str) -> str:
        part = a.get(key)
        return txt(part, "name", f"post_addr.{key}.", p, 60) if isinstance(part, dict) else ""

    receiver = Address(
        name=txt(o, "mask_post_receiver", "", p, 100),
        phone=txt(o, "mask_post_tel", "", p, 40),
        state=region(addr, "province") or region(mask, "province"),
        city=region(addr, "city") or region(mask, "city"),
        district=region(addr, "town") or region(mask, "town"),
        town=region(addr, "street") or region(mask, "street"),
        detail=txt(mask, "detail", "mask_post_addr.", p, 500),
    )
    protected = ProtectedReceiver(
        merge_key=txt(o, "open_address_id", "", p, 256),
        merge_key_kind="open_address_id" if o.get("open_address_id") else "",
        name_cipher=txt(o, "encrypt_post_receiver", "", p, 2000),
        phone_cipher=txt(o, "encrypt_post_tel", "", p, 2000),
        address_cipher=txt(addr, "encrypt_detail", "post_addr.", p, 4000),
        name_mask=receiver.name,
        phone_mask=receiver.phone,
        address_mask=receiver.detail,
    )
    return build(
        Order(
            channel=CHANNEL,
            shop_id=shop_id,
            order_id=order_id,
            status=code,
            lines=lines,
            post_fee=post,
            paid=(pay or 0) + pay_promo,
            paid_path="pay_amount",
            created_at=epoch_time(o, "create_time", "", p, millis=False, required=True),
            paid_at=epoch_time(o, "pay_time", "", p, millis=False),
            received_at=received_at,
            receiver=receiver,
            protected=protected,
            buyer_id=txt(o, "doudian_open_id", "", p, 128),
            buyer_message=txt(o, "buyer_words", "", p),
            seller_memo=txt(o, "seller_words", "", p),
            presale_stage=presale,
        ),
        p,
    )
