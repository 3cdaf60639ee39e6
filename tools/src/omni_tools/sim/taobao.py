"""Taobao/Tmall open platform (TOP) as the simulator serves it: `POST|GET /router/rest`.

System parameters (every call): `method`, `app_key`, `session` (the seller's token), `timestamp`
(`yyyy-MM-dd HH:mm:ss`, GMT+8, ±10 min), `format=json`, `v=2.0`, `sign_method` (`md5` | `hmac` |
`hmac-sha256`), `sign` (omni_channel.domain.signing: sorted `name+value`, no body). Methods served:

- `taobao.item.quantity.update`: `num_iid` (required), `sku_id` or `outer_id` (a SKU's), `quantity`
  (required), `type` (1 = full, the default; 2 = incremental, may be negative) ->
  `item_quantity_update_response.item` with `num_iid`, `num`, `modified` and, for a SKU, `skus.sku[]`;
- `taobao.item.seller.get`: `num_iid`, `fields` -> `item_seller_get_response.item` (`num`, `approve_status`,
  `skus.sku[]` with `sku_id`, `outer_id`, `quantity`): what Omni compares with what it pushed (drift);
- `taobao.logistics.offline.send`: `tid`, `out_sid`, `company_code` -> `logistics_offline_send_response.
  shipping.is_success` (taobao_logistics.py: the shipment write-back).

Errors are HTTP 200 with `error_response` {code, msg, sub_code, sub_msg, request_id}, codes as TOP documents
them: 7 App Call Limited, 10 Service Currently Unavailable, 15 Remote Service Error (sub_code `isv.*`: the
request is refused, do not retry it as it is; `isp.*`: the platform failed, retry later), 21/22 missing or
invalid method, 25 Invalid Signature, 26/27 missing or invalid session, 28/29 app key, 30/31 timestamp,
40 Missing Required Arguments, 41 Invalid Arguments. See docs/platforms/taobao.md.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from omni_channel.domain.signing import SIGN_METHODS, format_china_time, signature_matches, timestamp_problem

from . import taobao_logistics
from .state import Item, Platform

SYSTEM = ("method", "app_key", "session", "timestamp", "sign_method", "sign")


class TopError(Exception):
    def __init__(self, code: int, msg: str, sub_code: str | None = None, sub_msg: str | None = None) -> None:
        super().__init__(f"{code} {msg} {sub_code or ''}")
        self.code, self.msg, self.sub_code, self.sub_msg = code, msg, sub_code, sub_msg

    def body(self) -> dict[str, Any]:
        err: dict[str, Any] = {"code": self.code, "msg": self.msg, "request_id": uuid.uuid4().hex[:12]}
        if self.sub_code:
            err["sub_code"] = self.sub_code
        if self.sub_msg:
            err["sub_msg"] = self.sub_msg
        return {"error_response": err}


def refused(sub_code: str, sub_msg: str) -> TopError:
    return TopError(15, "Remote service error", sub_code, sub_msg)


def authenticate(platform: Platform, params: dict[str, str], now: datetime) -> str:
    """Check the system parameters and the signature; returns the calling shop's id."""
    if not params.get("method"):
        raise TopError(21, "Missing Method")
    if not params.get("app_key"):
        raise TopError(28, "Missing App Key")
    shop = platform.shops.get(params["app_key"])
    if shop is None:
        raise TopError(29, "Invalid App Key")
    if not params.get("sign"):
        raise TopError(24, "Missing Signature")
    method = params.get("sign_method", "md5")
    if method not in SIGN_METHODS or not signature_matches(params, b"", shop.secret, method, params["sign"]):
        raise TopError(25, "Invalid Signature")
    if not params.get("timestamp"):
        raise TopError(30, "Missing Timestamp")
    if timestamp_problem(params["timestamp"], now):
        raise TopError(31, "Invalid Timestamp")
    if not params.get("session"):
        raise TopError(26, "Missing Session")
    if params["session"] != shop.session:
        raise TopError(27, "Invalid Session")
    return shop.shop_id


def call(platform: Platform, params: dict[str, str], now: datetime) -> dict[str, Any]:
    """One TOP call: its JSON answer (an `error_response` on any refusal)."""
    try:
        shop_id = authenticate(platform, params, now)
        handler = METHODS.get(params["method"])
        if handler is None:
            raise TopError(22, "Invalid Method", sub_msg=f"{params['method']} is not served by the simulator")
        return handler(platform, shop_id, params, now)
    except TopError as exc:
        return exc.body()


def _int(params: dict[str, str], name: str, *, required: bool = False) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        if required:
            raise TopError(
                40, "Missing Required Arguments", f"missing-parameter:{name}", f"{name} is required"
            )
        return None
    try:
        return int(raw)
    except ValueError:
        raise TopError(41, "Invalid Arguments", f"invalid-parameter:{name}", f"{name}: an integer") from None


def _item_of(platform: Platform, shop_id: str, num_iid: int) -> Item:
    item = platform.items.get(num_iid)
    if item is None or item.shop_id != shop_id:
        raise refused("isv.item-not-exist", f"商品不存在: num_iid {num_iid}")
    if item.approve_status == "deleted":
        raise refused("isv.item-is-delete", f"商品已删除: num_iid {num_iid}")
    return item


def item_quantity_update(platform: Platform, shop_id: str, params: dict[str, str], now: datetime) -> dict:
    num_iid = _int(params, "num_iid", required=True)
    quantity = _int(params, "quantity", required=True)
    kind = _int(params, "type") or 1
    assert num_iid is not None and quantity is not None
    if kind not in (1, 2):
        raise TopError(
            41, "Invalid Arguments", "invalid-parameter:type", "type is 1 (full) or 2 (incremental)"
        )
    item = _item_of(platform, shop_id, num_iid)
    sku_id = _int(params, "sku_id")
    outer_id = params.get("outer_id") or None
    if sku_id is None and outer_id is not None:
        sku_id = next((k for k, s in item.skus.items() if s["outer_id"] == outer_id), None)
        if sku_id is None:
            raise refused("isv.sku-not-exist", f"SKU不存在: outer_id {outer_id}")
    modified = format_china_time(now)
    if sku_id is not None:
        sku = item.skus.get(sku_id)
        if sku is None:
            raise refused("isv.sku-not-exist", f"SKU不存在: sku_id {sku_id}")
        sku["quantity"] = _next(sku["quantity"], quantity, kind)
        sku["modified"] = modified
    elif item.skus:
        raise refused("isv.invalid-parameter", "商品有SKU: 请指定 sku_id 或 outer_id")
    else:
        item.quantity = _next(item.quantity, quantity, kind)
    item.modified = modified
    out: dict[str, Any] = {"num_iid": item.num_iid, "num": item.total(), "modified": modified}
    if sku_id is not None:
        s = item.skus[sku_id]
        out["skus"] = {"sku": [{"sku_id": sku_id, "quantity": s["quantity"], "modified": s["modified"]}]}
    return {"item_quantity_update_response": {"item": out}}


def _next(current: int, quantity: int, kind: int) -> int:
    if kind == 1:
        if quantity < 0:
            raise TopError(41, "Invalid Arguments", "invalid-parameter:quantity", "全量更新时库存不能小于0")
        return quantity
    if current + quantity < 0:
        raise refused("isv.invalid-parameter", f"增量更新后库存不能小于0: 现有 {current}, 变化 {quantity}")
    return current + quantity


def item_seller_get(platform: Platform, shop_id: str, params: dict[str, str], now: datetime) -> dict:
    num_iid = _int(params, "num_iid", required=True)
    assert num_iid is not None
    item = platform.items.get(num_iid)
    if item is None or item.shop_id != shop_id:
        raise refused("isv.item-not-exist", f"商品不存在: num_iid {num_iid}")
    skus = [{"sku_id": k, "outer_id": s["outer_id"], "quantity": s["quantity"], "modified": s["modified"]}
            for k, s in sorted(item.skus.items())]  # fmt: skip
    body: dict[str, Any] = {
        "num_iid": item.num_iid,
        "title": item.title,
        "outer_id": item.outer_id,
        "num": item.total(),
        "approve_status": item.approve_status,
        "modified": item.modified,
    }
    if skus:
        body["skus"] = {"sku": skus}
    return {"item_seller_get_response": {"item": body}}


METHODS = {
    "taobao.item.quantity.update": item_quantity_update,
    "taobao.item.seller.get": item_seller_get,
    "taobao.logistics.offline.send": taobao_logistics.offline_send,  # shipment write-back
}
