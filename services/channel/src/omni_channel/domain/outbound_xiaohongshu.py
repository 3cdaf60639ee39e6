"""Xiaohongshu (ark open API) outbound calls. Pure. docs/platforms/xiaohongshu.md, "Stock push" and
"Shipment write-back".

`POST {base}` (production `/ark/open_api/v3/common_controller`), a JSON body holding the system params
`appId`, `version=2.0`, `timestamp` (unix s), `method`, `accessToken`, `sign` (platform_signing.
sign_xiaohongshu: the body is not signed) and the business params flat. Answers `{success, error_code,
error_msg, data}`: error_code -9013 is the gateway's rate limit (retried), as are negative system codes
(-1 and below -9000); the credentials codes are `CREDENTIAL_CODES`; others are refusals.

- stock: `inventory.syncSkuStock` {skuId, qty}: sets the SKU's sellable stock (full);
- read-back: `inventory.getSkuStock` {skuId} -> `data.skuStock.available`;
- write-back: `order.orderDeliver` {orderId, expressNo, expressCompanyCode}; a parcel of some lines adds
  `unpack=true` and `skuIdList` (Xiaohongshu takes split shipments).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .outbound import Call, Parcel, check_quantity, compact_json, error, quantity_or_refusal, transport
from .platform_signing import sign_xiaohongshu
from .push_status import Listing
from .stock_push import Answer, Credentials, Outcome

NAME = "Xiaohongshu"
CHANNELS = ("xiaohongshu",)
URL_SETTING = "xiaohongshu_api_url"
SPLITS = True
VERSION = "2.0"
STOCK, READ, SHIP = "inventory.syncSkuStock", "inventory.getSkuStock", "order.orderDeliver"
RATE_LIMITED = -9013
CREDENTIAL_CODES = frozenset({-1001, -1002, -1003})  # signature, accessToken invalid or expired, appId


def _call(method: str, biz: dict[str, Any], creds: Credentials, now: datetime) -> Call:
    ts = str(int(now.timestamp()))
    system = {"appId": creds.app_key, "version": VERSION, "timestamp": ts, "method": method,
              "accessToken": creds.session,
              "sign": sign_xiaohongshu(method, creds.app_key, ts, VERSION, creds.secret)}  # fmt: skip
    return Call(body=compact_json({**biz, **system}))


def _sku(listing: Listing) -> str | None:
    return listing.channel_sku_id or None


def stock_call(listing: Listing, quantity: int, creds: Credentials, now: datetime) -> Call | str:
    check_quantity(quantity)
    sku = _sku(listing)
    if sku is None:
        return "Xiaohongshu stock lives on a SKU: the listing has no channel_sku_id (skuId)"
    return _call(STOCK, {"skuId": sku, "qty": quantity}, creds, now)


def read_call(listing: Listing, creds: Credentials, now: datetime) -> Call | str:
    sku = _sku(listing)
    if sku is None:
        return "Xiaohongshu stock lives on a SKU: the listing has no channel_sku_id (skuId)"
    return _call(READ, {"skuId": sku}, creds, now)


def ship_call(parcel: Parcel, creds: Credentials, now: datetime) -> Call | str:
    biz: dict[str, Any] = {"orderId": parcel.order_id, "expressNo": parcel.tracking_no,
                           "expressCompanyCode": parcel.company_code}  # fmt: skip
    if parcel.split:
        if not parcel.lines:
            return "a split Xiaohongshu parcel needs its lines' skuIds (none known)"
        biz.update(unpack=True, skuIdList=[line_id for line_id, _ in parcel.lines])
    return _call(SHIP, biz, creds, now)


def _result(status: int, body: Any, what: str) -> Any:
    bad = transport(status, body, NAME)
    if bad is not None:
        return bad
    code = body.get("error_code")
    if body.get("success") is True and code in (None, 0):
        return body.get("data")
    text = str(body.get("error_msg") or body.get("msg") or "success=false")
    if code in CREDENTIAL_CODES:
        return error(Outcome.CREDENTIALS, NAME, what, code, text)
    if code == RATE_LIMITED or code == -1 or (isinstance(code, int) and code <= -9000) or code is None:
        return error(Outcome.RETRY, NAME, what, code, text)
    return error(Outcome.REFUSED, NAME, what, code, text)


def stock_answer(status: int, body: Any) -> Answer:
    found = _result(status, body, "stock update")
    return found if isinstance(found, Answer) else Answer(Outcome.ACKNOWLEDGED, "acknowledged")


def ship_answer(status: int, body: Any) -> Answer:
    found = _result(status, body, "shipment")
    return found if isinstance(found, Answer) else Answer(Outcome.ACKNOWLEDGED, "acknowledged")


def read_answer(status: int, body: Any, listing: Listing) -> int | Answer:
    found = _result(status, body, "stock read")
    if isinstance(found, Answer):
        return found
    stock = found.get("skuStock") if isinstance(found, dict) else None
    return quantity_or_refusal(stock.get("available") if isinstance(stock, dict) else None, NAME)
