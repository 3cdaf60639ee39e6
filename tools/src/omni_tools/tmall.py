"""Build Taobao/Tmall trades in the platform's own format (`taobao.trade.fullinfo.get`) and sign them."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

from .catalog import LISTINGS, SHOP

CST = timezone(timedelta(hours=8))
_BY_OUTER = {lst["outer_id"]: lst for lst in LISTINGS}

ADDRESSES = [
    ("浙江省", "杭州市", "西湖区", "文三路 90 号"),
    ("上海", "上海市", "静安区", "南京西路 1266 号"),
    ("北京", "北京市", "朝阳区", "建国路 87 号"),
    ("广东省", "广州市", "天河区", "天河路 208 号"),
]


@dataclass(frozen=True)
class Line:
    outer_id: str
    qty: int
    paid_yuan: Decimal | None = None  # defaults to price × qty
    num_iid: str | None = None
    sku_id: str | None = None


def yuan(cents: int) -> str:
    return f"{Decimal(cents) / 100:.2f}"


def new_tid(rnd: random.Random | None = None) -> str:
    r = rnd or random
    return "4" + "".join(str(r.randint(0, 9)) for _ in range(18))  # 19 digits, > 2^53


def trade(
    lines: list[Line],
    *,
    tid: str | None = None,
    post_fee_cents: int = 0,
    address: int = 0,
    status: str = "WAIT_SELLER_SEND_GOODS",
) -> dict:
    """A `trade_fullinfo_get_response` body: ids as *_str, yuan strings, GMT+8 times, masked receiver."""
    tid = tid or new_tid()
    now = datetime.now(UTC).astimezone(CST)
    orders, total, paid = [], Decimal(0), Decimal(0)
    for i, line in enumerate(lines):
        listing = _BY_OUTER.get(line.outer_id, {})
        price = Decimal(listing.get("price_cents", 10_000)) / 100
        gross = price * line.qty
        line_paid = line.paid_yuan if line.paid_yuan is not None else gross
        total += gross
        paid += line_paid
        oid = tid if len(lines) == 1 else f"{tid[:-2]}{i:02d}"
        orders.append(
            {
                "oid": int(oid),
                "oid_str": oid,
                "num_iid": int(line.num_iid or listing.get("channel_item_id", "9999")),
                "sku_id": line.sku_id or listing.get("channel_sku_id", ""),
                "outer_iid": line.outer_id,
                "outer_sku_id": line.outer_id,
                "title": listing.get("outer_id", line.outer_id),
                "num": line.qty,
                "price": f"{price:.2f}",
                "total_fee": f"{gross:.2f}",
                "payment": f"{line_paid:.2f}",
                "discount_fee": "0.00",
                "adjust_fee": "0.00",
                "part_mjz_discount": f"{gross - line_paid:.2f}",
                "divide_order_fee": f"{line_paid:.2f}",
                "status": status,
                "refund_status": "NO_REFUND",
            }
        )
    state, city, district, detail = ADDRESSES[address % len(ADDRESSES)]
    post_fee = Decimal(post_fee_cents) / 100
    body = {
        "tid": int(tid),
        "tid_str": tid,
        "status": status,
        "type": "fixed",
        "created": (now - timedelta(minutes=2)).strftime("%Y-%m-%d %H:%M:%S"),
        "pay_time": (now - timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M:%S"),
        "modified": now.strftime("%Y-%m-%d %H:%M:%S"),
        "total_fee": f"{total:.2f}",
        "discount_fee": f"{total - paid:.2f}",
        "adjust_fee": "0.00",
        "post_fee": f"{post_fee:.2f}",
        "payment": f"{paid + post_fee:.2f}",
        "buyer_open_uid": "AAHk5d-EAAeGwJedwSHpg8bT",
        "buyer_nick": "t**1",
        "seller_nick": SHOP["name"],
        "receiver_name": "张*",
        "receiver_mobile": "138****8000",
        "receiver_state": state,
        "receiver_city": city,
        "receiver_district": district,
        "receiver_address": f"{detail}****",
        "receiver_zip": "310000",
        "receiver_country": "",
        "shipping_type": "express",
        "orders": {"order": orders},
    }
    return {"trade_fullinfo_get_response": {"trade": body, "request_id": f"req{tid[-8:]}"}}


def signed_request(
    payload: dict,
    *,
    secret: str = SHOP["secret"],
    shop_id: str = SHOP["shop_id"],
    method: str = "hmac-sha256",
    now: datetime | None = None,
) -> tuple[dict[str, str], bytes]:
    """Query params (with `sign`) and body bytes for POST /channels/tmall/orders."""
    from omni_channel.domain import sign_tmall  # the adapter's own rule, not a copy

    body = json.dumps(payload, ensure_ascii=False).encode()
    ts = (now or datetime.now(UTC)).astimezone(CST).strftime("%Y-%m-%d %H:%M:%S")
    params = {"shop_id": shop_id, "app_key": SHOP["app_key"], "timestamp": ts, "sign_method": method}
    params["sign"] = sign_tmall(params, body, secret, method)
    return params, body
