"""JD and Pinduoduo order pull as the simulator serves it: orders held in memory, searched by modified time.

JD (JOS gateway) `GET|POST /jd/routerjson`: system params `method`, `app_key`, `access_token`, `timestamp`
(`yyyy-MM-dd HH:mm:ss`, GMT+8, ±10 min), `v=2.0`, `sign` (omni_channel.domain.platform_signing.sign_jd);
business params as JSON in `360buy_param_json`. Method `jingdong.pop.order.search` (and `.enSearch`, the
same here): `start_date`, `end_date` (modified time, inclusive, `yyyy-MM-dd HH:mm:ss`), `page` (from 1),
`page_size` (1..100) -> `jingdong_pop_order_search_responce.searchorderinfo_result` {apiResult,
orderInfoList[], orderTotal}. Errors: `{"error_response": {"code", "zh_desc", "en_desc"}}`.

Pinduoduo `POST /pdd/api/router` (form or query): `type`, `client_id`, `access_token`, `timestamp` (unix s,
±10 min), `data_type=JSON`, `sign` (sign_pdd). Type `pdd.order.number.list.increment.get`:
`start_updated_at`, `end_updated_at` (unix s, inclusive), `page` (from 1), `page_size` (1..100) ->
`order_sn_increment_get_response` {order_sn_list[], total_count, has_next}. Errors: `{"error_response":
{"error_code", "error_msg", "sub_code", "sub_msg"}}`.

Orders of a shop are ordered by (modified, id), so paging is stable while nothing changes; a modification
moves an order to the end, as it does on the platforms (a client overlaps its windows for that). Control:

    POST /_sim/{jd|pdd}/orders/generate        {shop_id, count, start?, spread_s?}: count orders
    POST /_sim/{jd|pdd}/orders/{order_id}/modify                                  its modified time is now
    GET  /_sim/{jd|pdd}/orders?shop_id=                                            {count, orders: [ids]}
"""

from __future__ import annotations

import copy
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from omni_channel.domain.platform_signing import same, sign_jd, sign_pdd, unix_timestamp_problem
from omni_channel.domain.signing import format_china_time, parse_china_time, timestamp_problem

from . import platform_apis
from .state import Platform

HERE = Path(__file__).parent
JD_SEARCH = ("jingdong.pop.order.search", "jingdong.pop.order.enSearch")
PDD_INCREMENT = "pdd.order.number.list.increment.get"
MAX_PAGE_SIZE = 100


class GenerateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    shop_id: str = Field(min_length=1, max_length=64)
    count: int = Field(ge=1, le=100_000)
    start: datetime | None = Field(
        None, description="the first order's modified time (default: now - spread)"
    )
    spread_s: float = Field(0.0, ge=0, description="modified times spread evenly over this many seconds")


@dataclass
class PullOrder:
    order_id: str
    shop_id: str
    modified: datetime  # whole seconds, UTC
    body: dict[str, Any]


@dataclass
class OrderBook:
    """The orders one platform holds, for its search API."""

    platform: str
    orders: dict[str, PullOrder] = field(default_factory=dict)
    serial: int = 0

    def generate(self, shop_id: str, count: int, start: datetime, spread_s: float) -> list[str]:
        template = json.loads((HERE / f"{self.platform}_order_template.json").read_text("utf-8"))
        made = []
        for i in range(count):
            self.serial += 1
            at = (start + timedelta(seconds=spread_s * i / max(count - 1, 1))).replace(microsecond=0)
            body = copy.deepcopy(template)
            if self.platform == "jd":
                order_id = str(400_000_000_000 + self.serial)
                body["orderId"], body["venderId"] = order_id, shop_id
            else:
                order_id = f"{at.astimezone(UTC):%y%m%d}-{self.serial:015d}"
                body["order_sn"] = order_id
            self.orders[order_id] = PullOrder(order_id, shop_id, at, body)
            self._stamp(self.orders[order_id])
            made.append(order_id)
        return made

    def modify(self, order_id: str, now: datetime) -> PullOrder:
        order = self.orders.get(order_id)
        if order is None:
            raise LookupError(f"no order {order_id} on {self.platform}")
        order.modified = max(now.replace(microsecond=0), order.modified + timedelta(seconds=1))
        if self.platform == "jd":
            order.body["venderRemark"] = f"modified {format_china_time(order.modified)}"
        else:
            order.body["remark"] = f"modified {format_china_time(order.modified)}"
        self._stamp(order)
        return order

    def _stamp(self, order: PullOrder) -> None:
        key = "modified" if self.platform == "jd" else "updated_at"
        order.body[key] = format_china_time(order.modified)

    def search(self, shop_id: str, start: datetime, end: datetime, page: int, size: int) -> tuple[list, int]:
        found = sorted(
            (o for o in self.orders.values() if o.shop_id == shop_id and start <= o.modified <= end),
            key=lambda o: (o.modified, o.order_id),
        )
        return [o.body for o in found[(page - 1) * size : page * size]], len(found)


class Refusal(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def _page(args: dict[str, Any]) -> tuple[int, int]:
    page, size = str(args.get("page", "1")), str(args.get("page_size", "100"))
    if not page.isdigit() or int(page) < 1:
        raise Refusal("41", "page must be a whole number from 1")
    if not size.isdigit() or not 1 <= int(size) <= MAX_PAGE_SIZE:
        raise Refusal("41", f"page_size must be a whole number from 1 to {MAX_PAGE_SIZE}")
    return int(page), int(size)


def _shop(platform: Platform, key: str, token: str) -> str:
    shop = platform.shops.get(key)
    if shop is None:
        raise Refusal("19", "invalid app key")
    if token != shop.session:
        raise Refusal("20", "invalid access token")
    return shop.secret


def jd_call(platform: Platform, book: OrderBook, params: dict[str, str], now: datetime) -> dict[str, Any]:
    try:
        secret = _shop(platform, params.get("app_key", ""), params.get("access_token", ""))
        if not same(sign_jd(params, secret), params.get("sign", "")):
            raise Refusal("14", "invalid signature")
        if timestamp_problem(params.get("timestamp", ""), now):
            raise Refusal("15", "invalid timestamp")
        if params.get("method") not in JD_SEARCH:
            raise Refusal("22", f"method {params.get('method')!r} is not served by the simulator")
        try:
            args = json.loads(params.get("360buy_param_json", "{}"))
            start, end = parse_china_time(args["start_date"]), parse_china_time(args["end_date"])
        except (ValueError, KeyError, TypeError):
            raise Refusal(
                "41", "360buy_param_json needs start_date and end_date (yyyy-MM-dd HH:mm:ss)"
            ) from None
        page, size = _page(args)
        shop_id = platform.shops[params["app_key"]].shop_id
        orders, total = book.search(shop_id, start, end, page, size)
    except Refusal as exc:
        return {"error_response": {"code": exc.code, "zh_desc": exc.message, "en_desc": exc.message}}
    api = {"success": True, "resultCode": "", "chineseErrCode": "", "englishErrCode": ""}
    result = {"apiResult": api, "orderInfoList": orders, "orderTotal": total}
    return {"jingdong_pop_order_search_responce": {"code": "0", "searchorderinfo_result": result}}


def pdd_call(platform: Platform, book: OrderBook, params: dict[str, str], now: datetime) -> dict[str, Any]:
    try:
        secret = _shop(platform, params.get("client_id", ""), params.get("access_token", ""))
        if not same(sign_pdd(params, secret), params.get("sign", "")):
            raise Refusal("10016", "invalid signature")
        if unix_timestamp_problem(params.get("timestamp", ""), now):
            raise Refusal("10017", "invalid timestamp")
        if params.get("type") != PDD_INCREMENT:
            raise Refusal("10001", f"type {params.get('type')!r} is not served by the simulator")
        try:
            start = datetime.fromtimestamp(int(params["start_updated_at"]), tz=UTC)
            end = datetime.fromtimestamp(int(params["end_updated_at"]), tz=UTC)
        except (ValueError, KeyError):
            raise Refusal("10000", "start_updated_at and end_updated_at are unix seconds") from None
        page, size = _page(params)
        shop_id = platform.shops[params["client_id"]].shop_id
        orders, total = book.search(shop_id, start, end, page, size)
    except Refusal as exc:
        err = {
            "error_code": int(exc.code),
            "error_msg": exc.message,
            "sub_code": exc.code,
            "sub_msg": exc.message,
        }
        return {"error_response": err}
    body = {"order_sn_list": orders, "total_count": total, "has_next": page * size < total}
    return {"order_sn_increment_get_response": body}


BOOKS_KEY: web.AppKey[dict[str, OrderBook]] = web.AppKey("order_books")
_CALLS = {"jd": jd_call, "pdd": pdd_call}
_HIDDEN = ("sign", "access_token")


def _router(name: str) -> Any:
    from .server import PLATFORMS_KEY, faulted  # the server imports this module

    async def route(request: web.Request) -> web.Response:
        platform: Platform = request.app[PLATFORMS_KEY][name]
        params = dict(request.query)
        if request.method == "POST":
            params.update({k: v for k, v in (await request.post()).items() if isinstance(v, str)})
        method = params.get("method") or params.get("type", "")
        shown = {k: v for k, v in params.items() if k not in _HIDDEN}
        record: dict[str, Any] = {"at": time.time(), "method": method, "params": shown}
        platform.calls.append(record)
        refused = await faulted(platform, record)
        if refused is not None:
            return refused
        if platform_apis.serves(name, method):  # stock and logistics share the router
            body = platform_apis.call(platform, params)
        else:
            body = _CALLS[name](platform, request.app[BOOKS_KEY][name], params, datetime.now(UTC))
        record["outcome"] = "ok" if "error_response" not in body else "error"
        return web.json_response(body)

    return route


def _book(request: web.Request) -> OrderBook:
    name = request.match_info["platform"]
    books = request.app[BOOKS_KEY]
    if name not in books:
        raise LookupError(f"no order pull on {name!r}; known: {', '.join(books)}")
    return books[name]


async def generate(request: web.Request) -> web.Response:
    from .server import problem

    try:
        book = _book(request)
        spec = GenerateIn.model_validate(await request.json())
    except LookupError as exc:
        return problem(404, str(exc))
    except ValueError as exc:
        return problem(422, f"the request is invalid: {str(exc)[:500]}")
    now = datetime.now(UTC)
    start = spec.start or now - timedelta(seconds=spec.spread_s)
    ids = book.generate(spec.shop_id, spec.count, start.astimezone(UTC), spec.spread_s)
    return web.json_response({"count": len(ids), "first": ids[0], "last": ids[-1]})


async def modify(request: web.Request) -> web.Response:
    from .server import problem

    try:
        order = _book(request).modify(request.match_info["order_id"], datetime.now(UTC))
    except LookupError as exc:
        return problem(404, str(exc))
    return web.json_response({"order_id": order.order_id, "modified": format_china_time(order.modified)})


async def list_orders(request: web.Request) -> web.Response:
    from .server import problem

    try:
        book = _book(request)
    except LookupError as exc:
        return problem(404, str(exc))
    shop = request.query.get("shop_id")
    ids = [o.order_id for o in book.orders.values() if shop is None or o.shop_id == shop]
    return web.json_response({"count": len(ids), "orders": ids})


def install(app: web.Application) -> None:
    app[BOOKS_KEY] = {"jd": OrderBook("jd"), "pdd": OrderBook("pdd")}
    app.router.add_route("*", "/jd/routerjson", _router("jd"))
    app.router.add_route("*", "/pdd/api/router", _router("pdd"))
    app.router.add_post("/_sim/{platform}/orders/generate", generate)
    app.router.add_post("/_sim/{platform}/orders/{order_id}/modify", modify)
    app.router.add_get("/_sim/{platform}/orders", list_orders)
