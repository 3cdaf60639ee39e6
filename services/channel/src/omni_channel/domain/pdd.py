"""Pinduoduo `order_info` (`pdd.order.information.get`) -> `channel.order.received` v2. Pure.
See docs/platforms/pdd.md.

Shapes: `{"order_info_get_response": {"order_info": {...}}}`, `{"order_info": {...}}` or the bare order.
Money: yuan as JSON **numbers** (`3296.0`), read from the JSON text as Decimals (never a float) -> exact
fen. No per-line amounts: discount_amount (platform + seller + 团长免单) and the price change
(order_change_amount) are spread over the lines by the largest remainder. Checks: goods_amount =
Σ goods_price × goods_count − order_change_amount; pay_amount = goods_amount − discount_amount + postage +
Σ service fees. Ids: goods_id / sku_id typed Long (numbers or strings: both accepted, digits kept exact).
Line ids: PDD has none: `<sku_id>` (with `-2`, `-3`… for a sku repeated).
Published: order_status 1 (待发货) with group_status 1, confirm_status 1 and no risk control.
Receiver: ciphertexts (`~…~`, `$…$`) and masks kept as given; `town` is the district; merge key
`open_address_id`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from omni_contracts.events.channel import Address, ProtectedReceiver

from .errors import InvalidTrade, Problem
from .money import yuan_number_to_cents
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
    txt,
)
from .tmall_fields import is_int, kind, yuan

CHANNEL = "pdd"
ORDER_STATUS = {1: "待发货", 2: "已发货待签收", 3: "已签收"}
REFUND = {1: ("none", ""), 2: ("requested", ""), 3: ("refunding", ""), 4: ("refunded", "")}
REFUNDED_IN_FULL = 4  # refund_status 退款成功: an unshipped order refunded in full is closed (已取消)


def close_of(doc: Any, status: str) -> tuple[str, str] | None:
    """(the raw status, the close reason) when this order push is a close, else None. PDD has no cancelled
    order_status: an order still 待发货 (1) whose refund_status is 4 is cancelled and refunded."""
    o = unwrap(doc)
    if status == "1" and o.get("refund_status") == REFUNDED_IN_FULL:
        return "refund_status 4", "refunded"
    return None


def unwrap(doc: Any) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise InvalidTrade(
            [Problem("$", f"pdd: the body must be a JSON object (an order_info), got {kind(doc)}")]
        )
    if "error_response" in doc:
        raise InvalidTrade([Problem("error_response", "pdd: this is a PDD error response, not an order")])
    for key in ("order_info_get_response", "order_info"):
        if key in doc:
            if not isinstance(doc[key], dict):
                raise InvalidTrade([Problem(key, f"pdd: must be an object, got {kind(doc[key])}")])
            return unwrap(doc[key])
    return doc


def _int(o: dict[str, Any], key: str, p: Problems, default: int | None = None) -> int | None:
    value = o.get(key, default)
    if value is None:
        p.add(key, "missing")
        return None
    if not is_int(value):
        p.add(key, f"must be an integer, got {kind(value)}")
        return None
    return value


def normalise(doc: Any, *, shop_id: str, received_at: datetime) -> Accepted | NotForFulfilment:
    o = unwrap(doc)
    p = Problems()
    order_sn = exact_id(o, "order_sn", "", p)
    status = _int(o, "order_status", p)
    refund = _int(o, "refund_status", p, 1)
    group, confirm = _int(o, "group_status", p, 1), _int(o, "confirm_status", p, 1)
    risk = _int(o, "risk_control_status", p, 0)
    if status is not None and status not in ORDER_STATUS:
        p.add("order_status", f"unknown PDD order_status {status}")
    if refund is not None and refund not in REFUND:
        p.add("refund_status", f"unknown PDD refund_status {refund}")
    if p:
        raise InvalidTrade(p.items)
    assert order_sn is not None
    code = str(status)
    if status != 1:
        return NotForFulfilment(
            order_sn, code, f"order_status {status}: {ORDER_STATUS[status]}, already shipped"
        )
    if group != 1 or confirm != 1:
        return NotForFulfilment(order_sn, code, "the group buy is not formed or the deal not confirmed yet")
    if risk != 0:
        return NotForFulfilment(order_sn, code, "under PDD risk control: do not ship yet")
    if refund == 4:
        return NotForFulfilment(order_sn, code, "refunded in full")

    n = yuan_number_to_cents
    goods_amount = amount(o, "goods_amount", "", p, n, required=True)
    discount = amount(o, "discount_amount", "", p, n) or 0
    change = amount(o, "order_change_amount", "", p, n) or 0
    postage = amount(o, "postage", "", p, n) or 0
    pay = amount(o, "pay_amount", "", p, n, required=True)
    fees = 0
    for i, fee in enumerate(list_at(o, "service_fee_detail", "", p, required=False)):
        fees += amount(fee, "service_fee", f"service_fee_detail[{i}].", p, n) or 0
    if None not in (goods_amount, pay) and goods_amount - discount + postage + fees != pay:  # type: ignore[operator]
        p.add(
            "pay_amount",
            f"pdd: {yuan(pay)} is not goods_amount − discount_amount + postage + service fees "  # type: ignore[arg-type]
            f"({yuan(goods_amount - discount + postage + fees)})",  # type: ignore[operator]
        )
    refund_status, refund_raw = REFUND[refund][0], str(refund)  # type: ignore[index]
    lines: list[Line] = []
    seen: dict[str, int] = {}
    for i, it in enumerate(list_at(o, "item_list", "", p, required=True)):
        path = f"item_list[{i}]."
        sku = exact_id(it, "sku_id", path, p)
        seen[sku or ""] = seen.get(sku or "", 0) + 1
        spec, name = txt(it, "goods_spec", path, p, 200), txt(it, "goods_name", path, p, 200)
        lines.append(
            Line(
                path=path.rstrip("."),
                line_id=sku if seen[sku or ""] == 1 else f"{sku}-{seen[sku or '']}",
                item_id=exact_id(it, "goods_id", path, p),
                sku_id=sku,
                outer_sku_id=txt(it, "outer_id", path, p, 128) or None,
                outer_iid=txt(it, "outer_goods_id", path, p, 128) or None,
                title=f"{name} {spec}".strip(),
                qty=count(it, "goods_count", path, p),
                price=amount(it, "goods_price", path, p, n, required=True),
                refund_status=refund_status,
                platform_refund_status=refund_raw,
            )
        )
    gross = sum(ln.gross for ln in lines)
    if goods_amount is not None and all(ln.price is not None and ln.qty is not None for ln in lines):
        if goods_amount + change != gross:
            p.add(
                "goods_amount",
                f"pdd: {yuan(goods_amount)} is not Σ goods_price × goods_count − order_change_amount",
            )
        else:
            allocate(lines, discount + change, "discount_amount", p)

    receiver = Address(
        name=txt(o, "receiver_name_mask", "", p, 100),
        phone=txt(o, "receiver_phone_mask", "", p, 40),
        state=txt(o, "province", "", p, 60),
        city=txt(o, "city", "", p, 60),
        district=txt(o, "town", "", p, 60),
        detail=txt(o, "receiver_address_mask", "", p, 500),
    )
    protected = ProtectedReceiver(
        merge_key=txt(o, "open_address_id", "", p, 256),
        merge_key_kind="open_address_id" if o.get("open_address_id") else "",
        name_cipher=txt(o, "receiver_name", "", p, 2000),
        phone_cipher=txt(o, "receiver_phone", "", p, 2000),
        address_cipher=txt(o, "receiver_address", "", p, 4000) or txt(o, "address", "", p, 4000),
        name_mask=receiver.name,
        phone_mask=receiver.phone,
        address_mask=txt(o, "address_mask", "", p, 600) or receiver.detail,
    )
    return build(
        Order(
            channel=CHANNEL,
            shop_id=shop_id,
            order_id=order_sn,
            status=code,
            lines=lines,
            post_fee=postage + fees,
            paid=pay or 0,
            paid_path="pay_amount",
            created_at=china_time(o, "created_time", "", p, required=True),
            paid_at=china_time(o, "pay_time", "", p),
            received_at=received_at,
            receiver=receiver,
            protected=protected,
            buyer_message=txt(o, "buyer_memo", "", p),
            seller_memo=txt(o, "remark", "", p),
            presale_stage="final_paid" if o.get("trade_type") == 1 else "none",
        ),
        p,
    )
