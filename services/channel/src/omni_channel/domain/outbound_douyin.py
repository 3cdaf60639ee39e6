"""Douyin Shop (抖店 open API) outbound calls. Pure. docs/platforms/douyin.md, "Stock push" and "Shipment
write-back".

`POST {base}/{method with / for .}?app_key=&method=&access_token=&timestamp=&v=2&sign_method=hmac-sha256
&sign=` with the business params as the JSON body (`param_json`: keys sorted, no spaces). The sign is
HMAC-SHA256 (key app_secret) of app_secret + "app_key"k "method"m "param_json"p "timestamp"t "v"2 +
app_secret, lowercase hex (`sign_api`). Every answer is `{code, msg, sub_code, sub_msg, data, log_id}`:
code 10000 is success; 20000 or an `isp.` sub code is the platform failing (retried); 30001/30002 the
app or the token (credentials); the rest (40000s, `isv.`) refusals.

- stock: `sku.syncStock` {product_id, sku_id | out_sku_id, stock_num, incremental=false};
- read-back: `sku.stockNum` {sku_id} -> `data.stock_num`;
- write-back: `order.logisticsAdd` {order_id, company_code, logistics_code}; a parcel of some lines
  `order.logisticsAddMultiPack` {order_id, pack_list: [{shipped_order_info: [{shipped_order_id,
  shipped_num}], company_code, logistics_code}]} (Douyin takes split shipments).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from typing import Any

from .outbound import (
    Call,
    Parcel,
    check_quantity,
    compact_json,
    digits,
    error,
    quantity_or_refusal,
    transport,
)
from .push_status import Listing
from .stock_push import Answer, Credentials, Outcome

NAME = "Douyin"
CHANNELS = ("douyin",)
URL_SETTING = "douyin_api_url"
SPLITS = True
STOCK, READ, SHIP, SHIP_SPLIT = (
    "sku.syncStock",
    "sku.stockNum",
    "order.logisticsAdd",
    ("order.logisticsAddMultiPack"),
)
OK = 10000
CREDENTIAL_CODES = frozenset({30001, 30002})
RETRY_CODES = frozenset({20000, 50002})  # system error, call limit


def sign_api(app_key: str, method: str, param_json: str, timestamp: str, secret: str, v: str = "2") -> str:
    pattern = f"{secret}app_key{app_key}method{method}param_json{param_json}timestamp{timestamp}v{v}{secret}"
    return hmac.new(secret.encode(), pattern.encode(), hashlib.sha256).hexdigest()


def _call(method: str, biz: dict[str, Any], creds: Credentials, now: datetime) -> Call:
    param_json, ts = compact_json(biz), str(int(now.timestamp()))
    query = {"app_key": creds.app_key, "method": method, "access_token": creds.session, "timestamp": ts,
             "v": "2", "sign_method": "hmac-sha256",
             "sign": sign_api(creds.app_key, method, param_json, ts, creds.secret)}  # fmt: skip
    return Call(path="/" + method.replace(".", "/"), query=query, body=param_json)


def _sku(listing: Listing) -> dict[str, Any] | str:
    sku = listing.channel_sku_id
    if not sku:
        return "Douyin stock lives on a SKU: the listing has no channel_sku_id (sku_id or out_sku_id)"
    which: dict[str, Any] = {"sku_id": int(sku)} if digits(sku) else {"out_sku_id": sku}
    if digits(listing.channel_item_id):
        which["product_id"] = int(listing.channel_item_id)
    return which


def stock_call(listing: Listing, quantity: int, creds: Credentials, now: datetime) -> Call | str:
    check_quantity(quantity)
    which = _sku(listing)
    if isinstance(which, str):
        return which
    return _call(STOCK, {**which, "stock_num": quantity, "incremental": False}, creds, now)


def read_call(listing: Listing, creds: Credentials, now: datetime) -> Call | str:
    which = _sku(listing)
    if isinstance(which, str):
        return which
    if "sku_id" not in which:
        return "Douyin's sku.stockNum takes a sku_id (digits), not a seller code"
    return _call(READ, {"sku_id": which["sku_id"]}, creds, now)


def ship_call(parcel: Parcel, creds: Credentials, now: datetime) -> Call | str:
    if not parcel.split:
        biz = {"order_id": parcel.order_id, "company_code": parcel.company_code,
               "logistics_code": parcel.tracking_no}  # fmt: skip
        return _call(SHIP, biz, creds, now)
    if not parcel.lines:
        return "a split Douyin parcel needs its lines' sku order ids (none known)"
    shipped = [{"shipped_order_id": line_id, "shipped_num": qty} for line_id, qty in parcel.lines]
    pack = {"shipped_order_info": shipped, "company_code": parcel.company_code,
            "logistics_code": parcel.tracking_no}  # fmt: skip
    return _call(SHIP_SPLIT, {"order_id": parcel.order_id, "pack_list": [pack]}, creds, now)


def _result(status: int, body: Any, what: str) -> dict[str, Any] | Answer:
    bad = transport(status, body, NAME)
    if bad is not None:
        return bad
    code, sub = body.get("code"), body.get("sub_code") or None
    if code == OK:
        return body.get("data") if isinstance(body.get("data"), dict) else {}
    text = str(body.get("sub_msg") or body.get("msg") or "")
    isp = isinstance(sub, str) and sub.startswith("isp.")
    if code in CREDENTIAL_CODES:
        return error(Outcome.CREDENTIALS, NAME, what, code, text, sub)
    if code in RETRY_CODES or isp or not isinstance(code, int):
        return error(Outcome.RETRY, NAME, what, code, text, sub)
    return error(Outcome.REFUSED, NAME, what, code, text, sub)


def stock_answer(status: int, body: Any) -> Answer:
    found = _result(status, body, "stock update")
    return found if isinstance(found, Answer) else Answer(Outcome.ACKNOWLEDGED, "acknowledged")


def ship_answer(status: int, body: Any) -> Answer:
    found = _result(status, body, "shipment")
    return found if isinstance(found, Answer) else Answer(Outcome.ACKNOWLEDGED, "acknowledged")


def read_answer(status: int, body: Any, listing: Listing) -> int | Answer:
    found = _result(status, body, "stock read")
    return found if isinstance(found, Answer) else quantity_or_refusal(found.get("stock_num"), NAME)
