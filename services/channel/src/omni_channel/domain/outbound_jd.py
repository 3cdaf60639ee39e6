"""JD (JOS `routerjson`) outbound calls. Pure. docs/platforms/jd.md, "Stock push" and "Shipment write-back".

System params `method`, `app_key`, `access_token`, `timestamp` (GMT+8), `v=2.0`, `sign` (platform_signing.
sign_jd); business params as JSON in `360buy_param_json`; a form POST. Answers are `<method with _>_responce`
(JD's spelling); errors `{"error_response": {"code", "zh_desc", "en_desc"}}` with string codes.

- stock: `jingdong.stock.write.updateSkuStock` {skuId, stockNum}: sets the SKU's stock (a full update);
- read-back: `jingdong.stock.read.findSkuStock` {skuId} -> `skuStock.stockNum`;
- write-back: `jingdong.pop.order.shipment` {orderId, logiCoprId, logiNo} -> `sopjosshipment_result.success`.
  One tracking number per order here: a split shipment's later parcels are not sent.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from .outbound import Call, Parcel, check_quantity, digits, error, quantity_or_refusal, transport
from .platform_signing import sign_jd
from .push_status import Listing
from .signing import format_china_time
from .stock_push import Answer, Credentials, Outcome

NAME = "JD"
CHANNELS = ("jd",)
URL_SETTING = "jd_router_url"
SPLITS = False
STOCK, READ, SHIP = (
    "jingdong.stock.write.updateSkuStock",
    "jingdong.stock.read.findSkuStock",
    ("jingdong.pop.order.shipment"),
)
CREDENTIAL_CODES = frozenset({"12", "14", "19", "20"})  # token expired, signature, app key, token
RETRY_CODES = frozenset({"1", "8", "66"})  # system busy, call limit, service unavailable


def _call(method: str, biz: dict[str, Any], creds: Credentials, now: datetime) -> Call:
    params = {"method": method, "app_key": creds.app_key, "access_token": creds.session, "v": "2.0",
              "timestamp": format_china_time(now), "360buy_param_json": json.dumps(biz)}  # fmt: skip
    params["sign"] = sign_jd(params, creds.secret)
    return Call(form=params)


def _sku(listing: Listing) -> int | str:
    if not digits(listing.channel_sku_id):
        return f"JD stock lives on a SKU: channel_sku_id {listing.channel_sku_id!r} is not a JD skuId"
    return int(listing.channel_sku_id)  # type: ignore[arg-type]


def stock_call(listing: Listing, quantity: int, creds: Credentials, now: datetime) -> Call | str:
    check_quantity(quantity)
    sku = _sku(listing)
    return sku if isinstance(sku, str) else _call(STOCK, {"skuId": sku, "stockNum": quantity}, creds, now)


def read_call(listing: Listing, creds: Credentials, now: datetime) -> Call | str:
    sku = _sku(listing)
    return sku if isinstance(sku, str) else _call(READ, {"skuId": sku}, creds, now)


def ship_call(parcel: Parcel, creds: Credentials, now: datetime) -> Call | str:
    if not digits(parcel.order_id):
        return f"JD orderId {parcel.order_id!r} is not a number"
    biz = {"orderId": parcel.order_id, "logiCoprId": parcel.company_code, "logiNo": parcel.tracking_no}
    return _call(SHIP, biz, creds, now)


def _result(status: int, body: Any, method: str, what: str) -> dict[str, Any] | Answer:
    bad = transport(status, body, NAME)
    if bad is not None:
        return bad
    if "error_response" in body:
        err = body["error_response"] if isinstance(body["error_response"], dict) else {}
        code = str(err.get("code", ""))
        text = str(err.get("en_desc") or err.get("zh_desc") or "")
        outcome = (Outcome.CREDENTIALS if code in CREDENTIAL_CODES else
                   Outcome.RETRY if code in RETRY_CODES else Outcome.REFUSED)  # fmt: skip
        return error(outcome, NAME, what, code, text)
    found = body.get(method.replace(".", "_") + "_responce")
    if not isinstance(found, dict):
        return Answer(Outcome.RETRY, "JD's answer has neither a result nor an error")
    return found


def stock_answer(status: int, body: Any) -> Answer:
    found = _result(status, body, STOCK, "stock update")
    if isinstance(found, Answer):
        return found
    if found.get("success") is True:
        return Answer(Outcome.ACKNOWLEDGED, "acknowledged")
    return error(Outcome.REFUSED, NAME, "stock update", found.get("code"), str(found.get("message", "")))


def read_answer(status: int, body: Any, listing: Listing) -> int | Answer:
    found = _result(status, body, READ, "stock read")
    if isinstance(found, Answer):
        return found
    stock = found.get("skuStock")
    return quantity_or_refusal(stock.get("stockNum") if isinstance(stock, dict) else None, NAME)


def ship_answer(status: int, body: Any) -> Answer:
    found = _result(status, body, SHIP, "shipment")
    if isinstance(found, Answer):
        return found
    result = found.get("sopjosshipment_result")
    if isinstance(result, dict) and result.get("success") is True:
        return Answer(Outcome.ACKNOWLEDGED, "acknowledged")
    result = result if isinstance(result, dict) else {}
    text = str(result.get("englishErrCode") or result.get("chineseErrCode") or "success=false")
    return error(Outcome.REFUSED, NAME, "shipment", result.get("errorCode"), text)
