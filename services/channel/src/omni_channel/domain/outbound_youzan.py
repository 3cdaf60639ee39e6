"""Youzan (youzanyun open API) outbound calls. Pure. docs/platforms/youzan.md, "Stock push" and "Shipment
write-back".

`POST {base}/{api}/{version}?access_token=` with the business params as a JSON body: Youzan's calls carry
no per-request signature, the OAuth access token is the authentication (the push's MD5 sign is for
webhooks only). Answers `{success, code, message, data, trace_id}` (code 200 with success); the gateway's
own errors `{"gw_err_resp": {"err_code", "err_msg"}}`: 4201/4202/4203 the token (credentials), 4005 an
unknown API, 4004/429 call limits (retried). A business error (`success: false`) is a refusal unless its
code is a 5xx.

- stock: `youzan.item.quantity.update` 3.0.0 {item_id, sku_id?, quantity, type=0 (full; 1 adds)};
- read-back: `youzan.item.get` 3.0.0 {item_id} -> `data.item` {quantity, skus[] {sku_id, quantity}};
- write-back: `youzan.logistics.online.confirm` 3.0.0 {tid, out_stype (Youzan's express id), out_sid
  (tracking no)}; a parcel of some lines adds `oids` (comma-separated; Youzan takes split shipments).
"""

from __future__ import annotations

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

NAME = "Youzan"
CHANNELS = ("youzan",)
URL_SETTING = "youzan_api_url"
SPLITS = True
STOCK, READ, SHIP = "youzan.item.quantity.update", "youzan.item.get", "youzan.logistics.online.confirm"
VERSION = "3.0.0"
CREDENTIAL_CODES = frozenset({4201, 4202, 4203})
RETRY_CODES = frozenset({429, 4004})


def _call(api: str, biz: dict[str, Any], creds: Credentials) -> Call:
    return Call(path=f"/{api}/{VERSION}", query={"access_token": creds.session}, body=compact_json(biz))


def _item(listing: Listing) -> dict[str, Any] | str:
    if not digits(listing.channel_item_id):
        return f"channel_item_id {listing.channel_item_id!r} is not a Youzan item_id (digits)"
    out: dict[str, Any] = {"item_id": int(listing.channel_item_id)}
    if listing.channel_sku_id:
        if not digits(listing.channel_sku_id):
            return f"channel_sku_id {listing.channel_sku_id!r} is not a Youzan sku_id (digits)"
        out["sku_id"] = int(listing.channel_sku_id)
    return out


def stock_call(listing: Listing, quantity: int, creds: Credentials, now: datetime) -> Call | str:
    check_quantity(quantity)
    which = _item(listing)
    if isinstance(which, str):
        return which
    return _call(STOCK, {**which, "quantity": quantity, "type": 0}, creds)


def read_call(listing: Listing, creds: Credentials, now: datetime) -> Call | str:
    which = _item(listing)
    return which if isinstance(which, str) else _call(READ, {"item_id": which["item_id"]}, creds)


def ship_call(parcel: Parcel, creds: Credentials, now: datetime) -> Call | str:
    biz: dict[str, Any] = {"tid": parcel.order_id, "out_stype": parcel.company_code,
                           "out_sid": parcel.tracking_no}  # fmt: skip
    if parcel.split:
        if not parcel.lines:
            return "a split Youzan parcel needs its lines' oids (none known)"
        biz["oids"] = ",".join(line_id for line_id, _ in parcel.lines)
    return _call(SHIP, biz, creds)


def _result(status: int, body: Any, what: str) -> Any:
    bad = transport(status, body, NAME)
    if bad is not None:
        return bad
    gw = body.get("gw_err_resp")
    if isinstance(gw, dict):
        code = gw.get("err_code")
        outcome = (Outcome.CREDENTIALS if code in CREDENTIAL_CODES else
                   Outcome.RETRY if code in RETRY_CODES else Outcome.REFUSED)  # fmt: skip
        return error(outcome, NAME, what, code, str(gw.get("err_msg", "")))
    if body.get("success") is True:
        return body.get("data") if isinstance(body.get("data"), dict) else {}
    code = body.get("code")
    text = str(body.get("message") or "success=false")
    retry = not isinstance(code, int) or 500 <= code < 600
    return error(Outcome.RETRY if retry else Outcome.REFUSED, NAME, what, code, text)


def stock_answer(status: int, body: Any) -> Answer:
    found = _result(status, body, "stock update")
    return found if isinstance(found, Answer) else Answer(Outcome.ACKNOWLEDGED, "acknowledged")


def ship_answer(status: int, body: Any) -> Answer:
    found = _result(status, body, "shipment")
    if isinstance(found, Answer):
        return found
    if found.get("is_success") is False:
        return Answer(Outcome.REFUSED, "Youzan refused the shipment: is_success=false")
    return Answer(Outcome.ACKNOWLEDGED, "acknowledged")


def read_answer(status: int, body: Any, listing: Listing) -> int | Answer:
    found = _result(status, body, "stock read")
    if isinstance(found, Answer):
        return found
    item = found.get("item") if isinstance(found.get("item"), dict) else {}
    if not listing.channel_sku_id:
        return quantity_or_refusal(item.get("quantity"), NAME)
    for s in item.get("skus") or []:
        if isinstance(s, dict) and str(s.get("sku_id")) == listing.channel_sku_id:
            return quantity_or_refusal(s.get("quantity"), NAME)
    return Answer(Outcome.REFUSED, f"the Youzan item has no SKU {listing.channel_sku_id!r}")
