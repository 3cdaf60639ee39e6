"""The stock and logistics APIs of JD, Pinduoduo, Douyin, Xiaohongshu and Youzan as the simulator serves
them, each signed and answered the platform's way (omni_channel.domain.outbound_<platform> is the client
side; docs/platforms/<platform>.md the shapes):

- JD `POST /jd/routerjson` (beside the order pull, pull.py): `jingdong.stock.write.updateSkuStock`,
  `jingdong.stock.read.findSkuStock`, `jingdong.pop.order.shipment`;
- Pinduoduo `POST /pdd/api/router` (likewise): `pdd.goods.quantity.update`, `pdd.goods.information.get`,
  `pdd.logistics.online.send`;
- Douyin `POST /douyin/{method with /}`: `sku.syncStock`, `sku.stockNum`, `order.logisticsAdd`,
  `order.logisticsAddMultiPack`;
- Xiaohongshu `POST /xiaohongshu/api/open`: `inventory.syncSkuStock`, `inventory.getSkuStock`,
  `order.orderDeliver`;
- Youzan `POST /youzan/api/{api}/{version}?access_token=`: `youzan.item.quantity.update`,
  `youzan.item.get`, `youzan.logistics.online.confirm`.

Each checks the shop's credentials and signature first, then applies the platform's faults (latency,
timeouts, 5xx: server.faulted) and its rate limit (the platform's own code), then the call
(platform_stock.py). Items and shipments are the platform's (`/_sim/{platform}/items`, `/shipments`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from omni_channel.domain.outbound_douyin import sign_api as sign_douyin_api
from omni_channel.domain.platform_signing import (
    same,
    sign_jd,
    sign_pdd,
    sign_xiaohongshu,
    unix_timestamp_problem,
)
from omni_channel.domain.signing import timestamp_problem

from .platform_stock import Refused, set_stock, ship, stock_of, whole_number
from .state import Platform

JD_METHODS = ("jingdong.stock.write.updateSkuStock", "jingdong.stock.read.findSkuStock",
              "jingdong.pop.order.shipment")  # fmt: skip
PDD_METHODS = ("pdd.goods.quantity.update", "pdd.goods.information.get", "pdd.logistics.online.send")
HIDDEN = {"sign", "access_token", "accessToken"}


class Denied(Exception):
    """The credentials or the signature are wrong (`kind`: app, token, sign, timestamp, limit)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind, self.message = kind, message


def _shop(platform: Platform, app_key: str, token: str) -> tuple[str, str]:
    shop = platform.shops.get(app_key)
    if shop is None:
        raise Denied("app", "invalid app key")
    if token != shop.session:
        raise Denied("token", "invalid or expired access token")
    return shop.shop_id, shop.secret


def _limit(platform: Platform, key: str) -> None:
    if not platform.bucket.take(key, time.monotonic()):
        raise Denied("limit", "call limit reached (simulated)")


def _int_or_none(value: Any, name: str) -> int | None:
    return None if value in (None, "") else whole_number(value, name)


# -- JD ---------------------------------------------------------------------------------------------------
JD_DENIED = {"app": "19", "token": "20", "sign": "14", "timestamp": "15", "limit": "8"}


def jd(platform: Platform, params: dict[str, str], now: datetime) -> dict[str, Any]:
    method = params.get("method", "")
    try:
        shop_id, secret = _shop(platform, params.get("app_key", ""), params.get("access_token", ""))
        if not same(sign_jd(params, secret), params.get("sign", "")):
            raise Denied("sign", "invalid signature")
        if timestamp_problem(params.get("timestamp", ""), now):
            raise Denied("timestamp", "invalid timestamp")
        _limit(platform, params["app_key"])
        biz = json.loads(params.get("360buy_param_json") or "{}")
        key = method.replace(".", "_") + "_responce"
        if method == JD_METHODS[0]:
            set_stock(platform, shop_id, None, str(biz.get("skuId")), biz.get("stockNum"), now)
            return {key: {"code": "0", "success": True}}
        if method == JD_METHODS[1]:
            sku = str(biz.get("skuId"))
            return {
                key: {
                    "code": "0",
                    "skuStock": {"skuId": sku, "stockNum": stock_of(platform, shop_id, None, sku)},
                }
            }
        ship(platform, shop_id, str(biz.get("orderId", "")), str(biz.get("logiCoprId", "")),
             str(biz.get("logiNo", "")), None, now)  # fmt: skip
        return {key: {"code": "0", "sopjosshipment_result": {"success": True}}}
    except Denied as exc:
        return {
            "error_response": {"code": JD_DENIED[exc.kind], "zh_desc": exc.message, "en_desc": exc.message}
        }
    except Refused as exc:
        if method == JD_METHODS[2]:
            result = {"success": False, "errorCode": exc.kind, "englishErrCode": exc.message}
            return {"jingdong_pop_order_shipment_responce": {"code": "0", "sopjosshipment_result": result}}
        return {"error_response": {"code": "41" if exc.kind == "argument" else "60",
                                   "zh_desc": exc.message, "en_desc": exc.message}}  # fmt: skip
    except ValueError:
        return {"error_response": {"code": "41", "zh_desc": "bad 360buy_param_json", "en_desc": "bad JSON"}}


# -- Pinduoduo --------------------------------------------------------------------------------------------
PDD_DENIED = {"app": 10018, "token": 10019, "sign": 10016, "timestamp": 10017, "limit": 70031}
PDD_REFUSED = {"item": 20011, "closed": 50002, "shipped": 50003, "carrier": 50004, "argument": 10000}


def pdd(platform: Platform, params: dict[str, str], now: datetime) -> dict[str, Any]:
    method = params.get("type", "")
    try:
        shop_id, secret = _shop(platform, params.get("client_id", ""), params.get("access_token", ""))
        if not same(sign_pdd(params, secret), params.get("sign", "")):
            raise Denied("sign", "invalid signature")
        if unix_timestamp_problem(params.get("timestamp", ""), now):
            raise Denied("timestamp", "invalid timestamp")
        _limit(platform, params["client_id"])
        goods = _int_or_none(params.get("goods_id"), "goods_id")
        if method == PDD_METHODS[0]:
            if params.get("update_type", "1") != "1":
                raise Refused("argument", "the simulator takes full updates (update_type=1) only")
            sku = params.get("sku_id") or params.get("outer_id")
            set_stock(platform, shop_id, goods, sku, params.get("quantity"), now)
            return {"goods_quantity_update_response": {"is_success": True}}
        if method == PDD_METHODS[1]:
            item = platform.items.get(goods or 0)
            if item is None or item.shop_id != shop_id:
                raise Refused("item", f"no goods {goods}")
            skus = [{"sku_id": k, "outer_id": s["outer_id"], "quantity": s["quantity"]}
                    for k, s in sorted(item.skus.items())]  # fmt: skip
            return {"goods_info_get_response": {"goods_info": {"goods_id": item.num_iid, "sku_list": skus}}}
        ship(platform, shop_id, params.get("order_sn", ""), params.get("logistics_id", ""),
             params.get("tracking_number", ""), None, now)  # fmt: skip
        return {"logistics_online_send_response": {"is_success": True}}
    except (Denied, Refused) as exc:
        code = PDD_DENIED[exc.kind] if isinstance(exc, Denied) else PDD_REFUSED[exc.kind]
        return {"error_response": {"error_code": code, "error_msg": exc.message, "sub_code": str(code),
                                   "sub_msg": exc.message}}  # fmt: skip


# -- Douyin -----------------------------------------------------------------------------------------------
DOUYIN_DENIED = {"app": 30001, "token": 30002, "sign": 30001, "timestamp": 30001, "limit": 50002}
DOUYIN_METHODS = ("sku.syncStock", "sku.stockNum", "order.logisticsAdd", "order.logisticsAddMultiPack")


def douyin(platform: Platform, query: dict[str, str], body: str, now: datetime) -> dict[str, Any]:
    method = query.get("method", "")
    try:
        shop_id, secret = _shop(platform, query.get("app_key", ""), query.get("access_token", ""))
        expected = sign_douyin_api(query["app_key"], method, body, query.get("timestamp", ""), secret)
        if not same(expected, query.get("sign", "")):
            raise Denied("sign", "invalid sign")
        if unix_timestamp_problem(query.get("timestamp", ""), now):
            raise Denied("timestamp", "invalid timestamp")
        _limit(platform, query["app_key"])
        biz = json.loads(body or "{}")
        data: dict[str, Any] = {}
        if method == DOUYIN_METHODS[0]:
            if biz.get("incremental") is not False:
                raise Refused("argument", "the simulator takes full updates (incremental=false) only")
            sku = biz.get("sku_id") or biz.get("out_sku_id")
            set_stock(platform, shop_id, _int_or_none(biz.get("product_id"), "product_id"), str(sku),
                      biz.get("stock_num"), now)  # fmt: skip
        elif method == DOUYIN_METHODS[1]:
            data = {
                "sku_id": biz.get("sku_id"),
                "stock_num": stock_of(platform, shop_id, None, str(biz.get("sku_id"))),
            }
        elif method == DOUYIN_METHODS[2]:
            ship(platform, shop_id, str(biz.get("order_id", "")), str(biz.get("company_code", "")),
                 str(biz.get("logistics_code", "")), None, now)  # fmt: skip
        elif method == DOUYIN_METHODS[3]:
            for pack in biz.get("pack_list") or []:
                lines = [
                    [i.get("shipped_order_id"), i.get("shipped_num")] for i in pack["shipped_order_info"]
                ]
                ship(platform, shop_id, str(biz.get("order_id", "")), str(pack.get("company_code", "")),
                     str(pack.get("logistics_code", "")), lines or None, now)  # fmt: skip
        else:
            raise Refused("argument", f"method {method!r} is not served by the simulator")
        return {"code": 10000, "msg": "success", "data": data, "log_id": "sim"}
    except Denied as exc:
        return {"code": DOUYIN_DENIED[exc.kind], "msg": exc.message, "sub_code": f"isv.{exc.kind}",
                "sub_msg": exc.message}  # fmt: skip
    except (Refused, ValueError, KeyError, TypeError) as exc:
        kind = exc.kind if isinstance(exc, Refused) else "argument"
        return {"code": 40004, "msg": "业务处理失败", "sub_code": f"isv.{kind}", "sub_msg": str(exc)}


# -- Xiaohongshu ------------------------------------------------------------------------------------------
XHS_DENIED = {"app": -1003, "token": -1002, "sign": -1001, "timestamp": -1001, "limit": -9013}
XHS_REFUSED = {"item": 50301, "closed": 50401, "shipped": 50402, "carrier": 50403, "argument": 50001}


def xiaohongshu(platform: Platform, body: dict[str, Any], now: datetime) -> dict[str, Any]:
    method = str(body.get("method", ""))
    try:
        shop_id, secret = _shop(platform, str(body.get("appId", "")), str(body.get("accessToken", "")))
        ts, version = str(body.get("timestamp", "")), str(body.get("version", ""))
        if not same(sign_xiaohongshu(method, body["appId"], ts, version, secret), str(body.get("sign", ""))):
            raise Denied("sign", "签名错误")
        if unix_timestamp_problem(ts, now):
            raise Denied("timestamp", "时间戳过期")
        _limit(platform, body["appId"])
        data: Any = None
        if method == "inventory.syncSkuStock":
            set_stock(platform, shop_id, None, str(body.get("skuId")), body.get("qty"), now)
        elif method == "inventory.getSkuStock":
            sku = str(body.get("skuId"))
            data = {"skuId": sku, "skuStock": {"available": stock_of(platform, shop_id, None, sku)}}
        elif method == "order.orderDeliver":
            lines = body.get("skuIdList") if body.get("unpack") else None
            ship(platform, shop_id, str(body.get("orderId", "")), str(body.get("expressCompanyCode", "")),
                 str(body.get("expressNo", "")), lines, now)  # fmt: skip
        else:
            raise Refused("argument", f"method {method!r} is not served by the simulator")
        return {"success": True, "error_code": 0, "data": data}
    except (Denied, Refused) as exc:
        code = XHS_DENIED[exc.kind] if isinstance(exc, Denied) else XHS_REFUSED[exc.kind]
        return {"success": False, "error_code": code, "error_msg": exc.message}


# -- Youzan -----------------------------------------------------------------------------------------------
YOUZAN_DENIED = {"token": 4203, "limit": 4004}


def youzan(platform: Platform, api: str, token: str, body: dict[str, Any], now: datetime) -> dict[str, Any]:
    try:
        shop = next((s for s in platform.shops.values() if s.session == token), None)
        if shop is None:
            raise Denied("token", "Token 不存在")
        _limit(platform, shop.app_key)
        data: dict[str, Any] = {}
        item_id = _int_or_none(body.get("item_id"), "item_id")
        sku = None if body.get("sku_id") in (None, "") else str(body["sku_id"])
        if api == "youzan.item.quantity.update":
            if body.get("type", 0) != 0:
                raise Refused("argument", "the simulator takes full updates (type=0) only")
            set_stock(platform, shop.shop_id, item_id, sku, body.get("quantity"), now)
            data = {"is_success": True}
        elif api == "youzan.item.get":
            item = platform.items.get(item_id or 0)
            if item is None or item.shop_id != shop.shop_id:
                raise Refused("item", f"商品不存在: {item_id}")
            skus = [{"sku_id": k, "quantity": s["quantity"]} for k, s in sorted(item.skus.items())]
            data = {"item": {"item_id": item.num_iid, "quantity": item.total(), "skus": skus}}
        elif api == "youzan.logistics.online.confirm":
            oids = [o for o in str(body.get("oids") or "").split(",") if o]
            ship(platform, shop.shop_id, str(body.get("tid", "")), str(body.get("out_stype", "")),
                 str(body.get("out_sid", "")), oids or None, now)  # fmt: skip
            data = {"is_success": True}
        else:
            return {"gw_err_resp": {"err_code": 4005, "err_msg": "非法的API"}}
        return {"success": True, "code": 200, "message": "successful", "data": data, "trace_id": "sim"}
    except Denied as exc:
        return {"gw_err_resp": {"err_code": YOUZAN_DENIED[exc.kind], "err_msg": exc.message}}
    except Refused as exc:
        return {"success": False, "code": 141500101, "message": exc.message, "trace_id": "sim"}


# -- routes -----------------------------------------------------------------------------------------------
def _route(name: str, handle: Callable[[web.Request, Platform, dict[str, Any]], Any]) -> Any:
    from .server import PLATFORMS_KEY, faulted  # the server imports this module

    async def route(request: web.Request) -> web.StreamResponse:
        platform: Platform = request.app[PLATFORMS_KEY][name]
        record: dict[str, Any] = {"at": time.time(), "method": "", "params": {}}
        platform.calls.append(record)
        refused = await faulted(platform, record)
        if refused is not None:
            return refused
        body = await handle(request, platform, record)
        record["outcome"] = "ok" if _ok(body) else "error"
        return web.json_response(body)

    return route


def _ok(body: dict[str, Any]) -> bool:
    return not ("error_response" in body or "gw_err_resp" in body or body.get("success") is False
                or body.get("code", 10000) not in (10000, 200))  # fmt: skip


def _shown(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if k not in HIDDEN}


async def _douyin(request: web.Request, platform: Platform, record: dict[str, Any]) -> Any:
    query, body = dict(request.query), await request.text()
    record.update(method=query.get("method", ""), params={**_shown(query), "param_json": body})
    return douyin(platform, query, body, datetime.now(UTC))


async def _xiaohongshu(request: web.Request, platform: Platform, record: dict[str, Any]) -> Any:
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return {"success": False, "error_code": 50001, "error_msg": "the body is not a JSON object"}
    record.update(method=str(body.get("method", "")), params=_shown(body))
    return xiaohongshu(platform, body, datetime.now(UTC))


async def _youzan(request: web.Request, platform: Platform, record: dict[str, Any]) -> Any:
    api = request.match_info["api"]
    try:
        body = await request.json() if request.can_read_body else {}
    except ValueError:
        body = None
    record.update(method=api, params=_shown(body) if isinstance(body, dict) else {})
    if not isinstance(body, dict):
        return {"success": False, "code": 400, "message": "the body is not a JSON object"}
    return youzan(platform, api, request.query.get("access_token", ""), body, datetime.now(UTC))


def serves(platform: str, method: str) -> bool:
    """JD's and Pinduoduo's routers are shared with the order pull (pull.py): these methods are ours."""
    return method in (JD_METHODS if platform == "jd" else PDD_METHODS if platform == "pdd" else ())


def call(platform: Platform, params: dict[str, str]) -> dict[str, Any]:
    """A JD or Pinduoduo stock or logistics call (pull.py's router hands it over)."""
    return (jd if platform.name == "jd" else pdd)(platform, params, datetime.now(UTC))


def install(app: web.Application) -> None:
    app.router.add_post("/douyin/{method:.+}", _route("douyin", _douyin))
    app.router.add_post("/xiaohongshu/api/open", _route("xiaohongshu", _xiaohongshu))
    app.router.add_post("/youzan/api/{api}/{version}", _route("youzan", _youzan))
