"""Youzan (有赞, a brand's own mall) trade push -> `channel.order.received` v2. Pure.
See docs/platforms/youzan.md.

The push: `{"id", "msg" (URL-encoded JSON), "type" ("trade_TradePaid", …), "status", "kdt_id", "client_id",
"version", "sign", …}`, signed MD5(client_id + msg + client_secret) (checked by the service before this).
A `msg` holding `full_order_info` is normalised; other types (`trade_TradeSuccess` with a bare tid, …) are
acknowledged and not published. A `youzan.trade.get` answer (`{"data": {"full_order_info": …}}`) is read
too. Money: yuan strings; `orders[].payment` is each line's final apportioned amount and Σ payment +
`pay_info.post_fee` must be `pay_info.payment`. Refunds: `refund_order[]` per oid.
Published: WAIT_SELLER_SEND_GOODS and TRADE_PAID (paid, not shipped). express_type 1 is a store pickup
(`self_fetch_info`), 2 same-city delivery.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from urllib.parse import unquote

from omni_contracts.events.channel import Address, ProtectedReceiver

from .errors import InvalidTrade, MalformedPayload, Problem
from .money import yuan_to_cents
from .normal import (
    Accepted,
    Line,
    NotForFulfilment,
    Order,
    Problems,
    amount,
    build,
    china_time,
    count,
    exact_id,
    list_at,
    obj_at,
    txt,
)
from .tmall_fields import kind, parse_json

CHANNEL = "youzan"
FULFIL = frozenset({"WAIT_SELLER_SEND_GOODS", "TRADE_PAID"})
NOT_FOR_FULFILMENT = {
    "WAIT_BUYER_PAY": "not paid yet",
    "WAIT_CONFIRM": "waiting for the group buy or for the shop to accept",
    "WAIT_BUYER_CONFIRM_GOODS": "already shipped",
    "TRADE_SUCCESS": "finished",
    "TRADE_CLOSED": "closed",
}
DELIVERY = {0: "express", 1: "store_pickup", 2: "same_city"}
REFUND = {
    1: "requested",
    10: "closed",
    20: "refunding",
    30: "refunding",
    40: "closed",
    50: "closed",
    60: "refunded",
}
# TRADE_CLOSED's order_info.close_type -> why (0 未关闭; 10–17 are the seller's own reasons)
CLOSE_TYPE = {1: "unpaid_timeout", 2: "refunded", 3: "unknown", 4: "buyer_cancel", 5: "seller_cancel",
              6: "refunded", **dict.fromkeys(range(10, 18), "seller_cancel")}  # fmt: skip


def close_of(doc: Any, status: str) -> tuple[str, str] | None:
    """(the raw status, the close reason) when this push is a close (TRADE_CLOSED), else None."""
    if status != "TRADE_CLOSED":
        return None
    try:
        has_msg = isinstance(doc, dict) and "msg" in doc
        inner = parse_json(unquote(doc["msg"]).encode("utf-8")) if has_msg else doc
    except (MalformedPayload, UnicodeEncodeError):
        inner = None
    full = inner.get("full_order_info") if isinstance(inner, dict) else None
    info = full.get("order_info") if isinstance(full, dict) else None
    close_type = info.get("close_type") if isinstance(info, dict) else None
    return status, CLOSE_TYPE.get(close_type, "unknown") if isinstance(close_type, int) else "unknown"


def push_msg(doc: Any) -> tuple[str, str]:
    """(client_id, msg as received) of a push envelope, for the signature check."""
    if not isinstance(doc, dict):
        raise MalformedPayload(f"youzan: the push must be a JSON object, got {kind(doc)}")
    msg, client_id = doc.get("msg"), doc.get("client_id")
    if not isinstance(msg, str) or not isinstance(client_id, str) or not client_id:
        raise MalformedPayload("youzan: the push needs string fields msg and client_id")
    return client_id, msg


def normalise_push(
    doc: dict[str, Any], *, shop_id: str, received_at: datetime
) -> Accepted | NotForFulfilment:
    try:
        inner = parse_json(unquote(doc["msg"]).encode("utf-8"))
    except (MalformedPayload, UnicodeEncodeError) as exc:
        reason = getattr(exc, "reason", str(exc))
        raise InvalidTrade([Problem("msg", f"youzan: msg is not URL-encoded JSON ({reason})")]) from None
    if isinstance(inner, dict) and "full_order_info" in inner:
        return normalise(inner, shop_id=shop_id, received_at=received_at)
    ident = (inner.get("tid") if isinstance(inner, dict) else None) or doc.get("id")
    if ident in (None, ""):
        raise InvalidTrade([Problem("msg.tid", "youzan: missing: the push names no trade")])
    kind_ = txt(doc, "type", "", Problems(), 64) or "?"
    return NotForFulfilment(str(ident)[:64], txt(doc, "status", "", Problems(), 64) or kind_,
                            f"push {kind_} carries no order to fulfil")  # fmt: skip


def normalise(doc: Any, *, shop_id: str, received_at: datetime) -> Accepted | NotForFulfilment:
    if isinstance(doc, dict) and isinstance(doc.get("data"), dict):
        doc = doc["data"]
    if not isinstance(doc, dict) or not isinstance(doc.get("full_order_info"), dict):
        raise InvalidTrade(
            [Problem("full_order_info", "youzan: missing: expected the trade's full_order_info")]
        )
    p = Problems()
    full = doc["full_order_info"]
    info = obj_at(full.get("order_info"), "full_order_info.order_info", p)
    pre = "full_order_info.order_info."
    tid = exact_id(info, "tid", pre, p)
    status = info.get("status")
    if status in (None, ""):
        p.add(f"{pre}status", "missing")
    elif status not in FULFIL and status not in NOT_FOR_FULFILMENT:
        p.add(f"{pre}status", f"unknown Youzan trade status {str(status)[:40]!r}")
    if p:
        raise InvalidTrade(p.items)
    assert tid is not None
    if status not in FULFIL:
        return NotForFulfilment(tid, status, f"status {status}: {NOT_FOR_FULFILMENT[status]}")
    express = info.get("express_type", 0)
    if express == 9:
        return NotForFulfilment(tid, status, "express_type 9: nothing to deliver")
    if express not in DELIVERY:
        p.add(f"{pre}express_type", f"unknown express_type {str(express)[:20]}")

    y = yuan_to_cents
    pay_info = obj_at(full.get("pay_info"), "full_order_info.pay_info", p)
    pp = "full_order_info.pay_info."
    payment = amount(pay_info, "payment", pp, p, y, required=True)
    post = amount(pay_info, "post_fee", pp, p, y) or 0
    goods = amount(pay_info, "total_fee", pp, p, y)
    refunds: dict[str, int] = {}
    for r in list_at(doc, "refund_order", "", p, required=False):
        for o in r.get("oids") or []:
            if isinstance(o, dict) and o.get("oid") is not None:
                refunds[str(o["oid"])] = r.get("refund_state")  # type: ignore[assignment]
    lines = []
    presale = False
    for i, o in enumerate(list_at(full, "orders", "full_order_info.", p, required=True)):
        path = f"full_order_info.orders[{i}]."
        oid = exact_id(o, "oid", path, p)
        refund = refunds.get(oid or "")
        presale = presale or o.get("is_pre_sale") in ("1", 1, True)
        lines.append(
            Line(
                path=path.rstrip("."),
                line_id=oid,
                item_id=exact_id(o, "item_id", path, p),
                sku_id=exact_id(o, "sku_id", path, p, required=False),
                outer_sku_id=txt(o, "outer_sku_id", path, p, 128) or None,
                outer_iid=txt(o, "outer_item_id", path, p, 128) or None,
                title=txt(o, "title", path, p, 200),
                qty=count(o, "num", path, p),
                price=amount(o, "price", path, p, y, required=True),
                paid=amount(o, "payment", path, p, y, required=True),
                refund_status=REFUND.get(refund, "none") if refund is not None else "none",  # type: ignore[arg-type]
                platform_refund_status="" if refund is None else str(refund)[:32],
            )
        )
    addr = obj_at(full.get("address_info"), "full_order_info.address_info", p)
    ap = "full_order_info.address_info."
    receiver = Address(
        name=txt(addr, "receiver_name", ap, p, 100),
        phone=txt(addr, "receiver_tel", ap, p, 40),
        state=txt(addr, "delivery_province", ap, p, 60),
        city=txt(addr, "delivery_city", ap, p, 60),
        district=txt(addr, "delivery_district", ap, p, 60),
        detail=txt(addr, "delivery_address", ap, p, 500),
        zip=txt(addr, "delivery_postal_code", ap, p, 20),
    )
    protected = ProtectedReceiver(
        name_mask=receiver.name, phone_mask=receiver.phone, address_mask=receiver.detail
    )
    buyer = obj_at(full.get("buyer_info"), "full_order_info.buyer_info", p)
    remark = obj_at(full.get("remark_info"), "full_order_info.remark_info", p)
    delivery = DELIVERY.get(express, "express")  # type: ignore[arg-type]
    return build(
        Order(
            channel=CHANNEL,
            shop_id=shop_id,
            order_id=tid,
            status=status,
            lines=lines,
            post_fee=post,
            paid=payment or 0,
            paid_path=f"{pp}payment",
            created_at=china_time(info, "created", pre, p, required=True),
            paid_at=china_time(info, "pay_time", pre, p),
            received_at=received_at,
            receiver=receiver,
            protected=protected,
            goods=goods,
            goods_path=f"{pp}total_fee",
            buyer_id=txt(buyer, "yz_open_id", "", p, 128) or str(buyer.get("buyer_id") or "")[:128],
            buyer_message=txt(remark, "buyer_message", "", p),
            seller_memo=txt(remark, "trade_memo", "", p),
            delivery=delivery,
            pickup_node=_pickup(addr) if delivery == "store_pickup" else None,
            presale_stage="final_paid" if presale else "none",
        ),
        p,
    )


def _pickup(addr: dict[str, Any]) -> str | None:
    raw = addr.get("self_fetch_info")
    try:
        info = json.loads(raw) if isinstance(raw, str) and raw else raw
    except ValueError:
        return None
    if isinstance(info, dict):
        store = info.get("store_id") or info.get("id")
        return str(store)[:64] if store not in (None, "") else None
    return None
