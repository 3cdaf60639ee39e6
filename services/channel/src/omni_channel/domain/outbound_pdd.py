"""Pinduoduo (`/api/router`) outbound calls. Pure. docs/platforms/pdd.md, "Stock push" and "Shipment
write-back".

A form POST: `type` (the API), `client_id`, `access_token`, `timestamp` (unix s), `data_type=JSON`, the
business params flat, `sign` (platform_signing.sign_pdd over every param). Answers `<type minus pdd., _>
_response`; errors `{"error_response": {"error_code", "error_msg", "sub_code", "sub_msg"}}`.

- stock: `pdd.goods.quantity.update` {goods_id, sku_id | outer_id, quantity, update_type=1 (full)} ->
  `goods_quantity_update_response.is_success`;
- read-back: `pdd.goods.information.get` {goods_id} -> `goods_info_get_response.goods_info.sku_list[]`
  {sku_id, outer_id, quantity};
- write-back: `pdd.logistics.online.send` {order_sn, logistics_id (a number), tracking_number} ->
  `logistics_online_send_response.is_success`. One tracking number per order: later parcels not sent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .outbound import Call, Parcel, check_quantity, digits, error, quantity_or_refusal, transport
from .platform_signing import sign_pdd
from .push_status import Listing
from .stock_push import Answer, Credentials, Outcome

NAME = "Pinduoduo"
CHANNELS = ("pdd",)
URL_SETTING = "pdd_router_url"
SPLITS = False
STOCK, READ, SHIP = "pdd.goods.quantity.update", "pdd.goods.information.get", "pdd.logistics.online.send"
CREDENTIAL_CODES = frozenset({10016, 10018, 10019})  # signature, client_id, access_token expired
RETRY_CODES = frozenset({50000, 50001, 70031, 70032})  # system error, busy, call limits


def _call(method: str, biz: dict[str, str], creds: Credentials, now: datetime) -> Call:
    params = {"type": method, "client_id": creds.app_key, "access_token": creds.session,
              "timestamp": str(int(now.timestamp())), "data_type": "JSON", **biz}  # fmt: skip
    params["sign"] = sign_pdd(params, creds.secret)
    return Call(form=params)


def _goods(listing: Listing) -> str | None:
    if not digits(listing.channel_item_id):
        return f"channel_item_id {listing.channel_item_id!r} is not a Pinduoduo goods_id (digits)"
    return None


def stock_call(listing: Listing, quantity: int, creds: Credentials, now: datetime) -> Call | str:
    check_quantity(quantity)
    problem = _goods(listing)
    if problem:
        return problem
    sku = listing.channel_sku_id
    if not sku:
        return "Pinduoduo stock lives on a SKU: the listing has no channel_sku_id (sku_id or outer_id)"
    which = {"sku_id": sku} if digits(sku) else {"outer_id": sku}
    biz = {"goods_id": listing.channel_item_id, **which, "quantity": str(quantity), "update_type": "1"}
    return _call(STOCK, biz, creds, now)


def read_call(listing: Listing, creds: Credentials, now: datetime) -> Call | str:
    return _goods(listing) or _call(READ, {"goods_id": listing.channel_item_id}, creds, now)


def ship_call(parcel: Parcel, creds: Credentials, now: datetime) -> Call | str:
    if not digits(parcel.company_code):
        return f"Pinduoduo logistics_id {parcel.company_code!r} is not a number"
    biz = {"order_sn": parcel.order_id, "logistics_id": parcel.company_code,
           "tracking_number": parcel.tracking_no}  # fmt: skip
    return _call(SHIP, biz, creds, now)


def _result(status: int, body: Any, key: str, what: str) -> dict[str, Any] | Answer:
    bad = transport(status, body, NAME)
    if bad is not None:
        return bad
    if "error_response" in body:
        err = body["error_response"] if isinstance(body["error_response"], dict) else {}
        code = err.get("error_code")
        sub = str(err.get("sub_code")) if err.get("sub_code") not in (None, "") else None
        outcome = (Outcome.CREDENTIALS if code in CREDENTIAL_CODES else
                   Outcome.RETRY if code in RETRY_CODES else Outcome.REFUSED)  # fmt: skip
        return error(outcome, NAME, what, code, str(err.get("sub_msg") or err.get("error_msg") or ""), sub)
    found = body.get(key)
    if not isinstance(found, dict):
        return Answer(Outcome.RETRY, "Pinduoduo's answer has neither a result nor an error")
    return found


def _success(status: int, body: Any, key: str, what: str) -> Answer:
    found = _result(status, body, key, what)
    if isinstance(found, Answer):
        return found
    if found.get("is_success") is True:
        return Answer(Outcome.ACKNOWLEDGED, "acknowledged")
    return Answer(Outcome.REFUSED, f"Pinduoduo refused the {what}: is_success=false")


def stock_answer(status: int, body: Any) -> Answer:
    return _success(status, body, "goods_quantity_update_response", "stock update")


def ship_answer(status: int, body: Any) -> Answer:
    return _success(status, body, "logistics_online_send_response", "shipment")


def read_answer(status: int, body: Any, listing: Listing) -> int | Answer:
    found = _result(status, body, "goods_info_get_response", "stock read")
    if isinstance(found, Answer):
        return found
    info = found.get("goods_info") if isinstance(found.get("goods_info"), dict) else {}
    sku = listing.channel_sku_id or ""
    for s in info.get("sku_list") or []:
        if isinstance(s, dict) and sku in (str(s.get("sku_id")), s.get("outer_id")):
            return quantity_or_refusal(s.get("quantity"), NAME)
    return Answer(Outcome.REFUSED, f"the Pinduoduo goods has no SKU {sku!r}")
