"""The platform simulator: one local HTTP server standing in for the sales platforms' open APIs.

    omni-tools sim [--port 19100] [--failure-rate 0.3] [--latency-ms 20] [--rate-limit 50] [--seed 7]

Platform APIs (each platform under its own prefix; Taobao/Tmall's TOP router is `/taobao/router/rest`,
see taobao.py). Control API for tests, `make demo` and benchmarks (JSON; 422 lists every problem):

    PUT  /_sim/{platform}/shops                 {shop_id, app_key, secret, session}
    PUT  /_sim/{platform}/items                 {num_iid, shop_id, quantity, skus: [{sku_id, outer_id, …}]}
    GET  /_sim/{platform}/items/{num_iid}       the item as the platform holds it
    POST /_sim/{platform}/items/{num_iid}/drift {sku_id?, quantity}: changed behind the client's back
    GET|PUT /_sim/{platform}/faults             {failure_rate, timeout_rate, timeout_s, latency_ms, …}
    GET  /_sim/{platform}/calls?method=&limit=  the calls received, newest last (secrets and tokens left out)
    DELETE /_sim/{platform}/calls
    GET  /_sim/{platform}/shipments?tid=        the shipments written back (taobao.logistics.offline.send and
                                                the others' logistics APIs, platform_apis.py)
    POST /_sim/{platform}/trades/{tid}/close    the trade is closed: a shipment write-back for it is refused
    POST /_sim/{jd|pdd}/orders/generate         {shop_id, count, start?, spread_s?}: orders for pull (pull.py)
    POST /_sim/{jd|pdd}/orders/{order_id}/modify its modified time moves to now
    POST /_sim/{platform}/push/orders           {shop_id, order?, status?}: a signed order pushed to Omni
    POST /_sim/{platform}/push/refunds          {shop_id, channel_order_id, kind?, status?}: a signed refund
                                                (push.py; the target: --omni-url / OMNI_SIM_OMNI_URL; 1688,
                                                `alibaba`, pushes orders only)
    GET  /_sim/health

Faults apply to platform API calls only: `latency_ms` on every call; a `timeout_rate` share is held
`timeout_s` and answered 504; a `failure_rate` share fails the way platforms fail, alternately an HTTP 503 and
a TOP `code 10 Service Currently Unavailable`; past `rate_limit_per_s` per app key, TOP `code 7 App Call
Limited`. The seed makes a run's faults repeatable. JD, PDD, Douyin, Xiaohongshu and Youzan stock and
logistics: platform_apis.py, with each platform's own rate-limit code.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from omni_contracts import utcnow

from . import platform_apis, pull, push, taobao
from .state import Faults, ItemIn, Platform, ShopIn

PLATFORMS = ("taobao", "jd", "pdd", "douyin", "xiaohongshu", "youzan", "alibaba")  # alibaba: 1688 (orders)
PLATFORMS_KEY: web.AppKey[dict[str, Platform]] = web.AppKey("platforms")
_HIDDEN = {"sign", "session"}


class DriftIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku_id: int | None = Field(None, gt=0)
    quantity: int = Field(ge=0)


class BadJson(Exception):
    pass


def problem(status: int, detail: str, problems: list[dict[str, str]] | None = None) -> web.Response:
    body: dict[str, Any] = {"title": _TITLES.get(status, "Error"), "status": status, "detail": detail}
    if problems:
        body["problems"] = problems
    return web.json_response(body, status=status, content_type="application/problem+json")


_TITLES = {404: "Not found", 422: "Invalid request", 400: "Bad request"}


async def _model(request: web.Request, model: type[BaseModel]) -> Any:
    try:
        raw = await request.json()
    except ValueError:
        raise BadJson from None
    return model.model_validate(raw)


def _platform(request: web.Request) -> Platform:
    name = request.match_info["platform"]
    platforms: dict[str, Platform] = request.app[PLATFORMS_KEY]
    if name not in platforms:
        raise LookupError(f"no simulated platform {name!r}; known: {', '.join(platforms)}")
    return platforms[name]


def _admin(fn: Callable[..., Any]) -> Callable[[web.Request], Any]:
    """The control routes' error shape: 400 bad JSON, 404 unknown, 422 with every problem."""

    async def route(request: web.Request) -> web.StreamResponse:
        try:
            return await fn(request, _platform(request))
        except LookupError as exc:
            return problem(404, str(exc).strip("'\""))
        except ValidationError as exc:
            items = [{"path": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()]
            return problem(422, f"the request is invalid: {len(items)} problem(s)", items)
        except BadJson:
            return problem(400, "the body is not JSON")

    return route


@_admin
async def put_shop(request: web.Request, platform: Platform) -> web.Response:
    shop = await _model(request, ShopIn)
    platform.put_shop(shop)
    return web.json_response({"shop_id": shop.shop_id, "app_key": shop.app_key})


def _item_view(platform: Platform, num_iid: int) -> dict[str, Any]:
    item = platform.items.get(num_iid)
    if item is None:
        raise LookupError(f"no item {num_iid} on {platform.name}")
    skus = [{"sku_id": k, **s} for k, s in sorted(item.skus.items())]
    return {"num_iid": item.num_iid, "shop_id": item.shop_id, "title": item.title, "outer_id": item.outer_id,
            "num": item.total(), "approve_status": item.approve_status, "modified": item.modified,
            "skus": skus}  # fmt: skip


@_admin
async def put_item(request: web.Request, platform: Platform) -> web.Response:
    item = await _model(request, ItemIn)
    platform.put_item(item, taobao.format_china_time(utcnow()))
    return web.json_response(_item_view(platform, item.num_iid))


@_admin
async def get_item(request: web.Request, platform: Platform) -> web.Response:
    return web.json_response(_item_view(platform, _num_iid(request)))


@_admin
async def drift(request: web.Request, platform: Platform) -> web.Response:
    num_iid, change = _num_iid(request), await _model(request, DriftIn)
    item = platform.items.get(num_iid)
    if item is None or (change.sku_id is not None and change.sku_id not in item.skus):
        raise LookupError(
            f"no item {num_iid}{f' sku {change.sku_id}' if change.sku_id else ''} on {platform.name}"
        )
    platform.drift(num_iid, change.sku_id, change.quantity, taobao.format_china_time(utcnow()))
    return web.json_response(_item_view(platform, num_iid))


def _num_iid(request: web.Request) -> int:
    raw = request.match_info["num_iid"]
    if not raw.isdigit():
        raise LookupError(f"no item {raw!r}: num_iid is a number")
    return int(raw)


@_admin
async def faults_route(request: web.Request, platform: Platform) -> web.Response:
    if request.method == "PUT":
        platform.set_faults(await _model(request, Faults))
    return web.json_response(platform.faults.model_dump())


@_admin
async def calls_route(request: web.Request, platform: Platform) -> web.Response:
    if request.method == "DELETE":
        platform.calls.clear()
        return web.json_response({"calls": []})
    method = request.query.get("method")
    limit = request.query.get("limit", "1000")
    if not limit.isdigit() or not 1 <= int(limit) <= 10_000:
        return problem(422, "limit is a number from 1 to 10000")
    found = [c for c in platform.calls if method is None or c["method"] == method]
    return web.json_response({"calls": found[-int(limit) :]})


@_admin
async def shipments_route(request: web.Request, platform: Platform) -> web.Response:
    tid = request.query.get("tid")
    if tid is not None and platform.name == "taobao" and not tid.isdigit():
        return problem(422, "tid is a number")
    found = [s for _, s in sorted(platform.shipments.items()) if tid is None or str(s["tid"]) == tid]
    return web.json_response({"shipments": found})


@_admin
async def close_trade(request: web.Request, platform: Platform) -> web.Response:
    tid = request.match_info["tid"]
    if platform.name != "taobao":  # the others' order ids are text (PDD's 261203-…, Xiaohongshu's P…)
        platform.closed_trades.add(tid)  # type: ignore[arg-type]
        return web.json_response({"tid": tid, "status": "TRADE_CLOSED"})
    if not tid.isdigit():
        return problem(422, "tid is a number")
    platform.closed_trades.add(int(tid))
    return web.json_response({"tid": int(tid), "status": "TRADE_CLOSED"})


async def top_router(request: web.Request) -> web.Response:
    """Taobao/Tmall's `/router/rest`: query and form parameters, faults, then the call."""
    platform: Platform = request.app[PLATFORMS_KEY]["taobao"]
    params = dict(request.query)
    if request.method == "POST":
        params.update({k: v for k, v in (await request.post()).items() if isinstance(v, str)})
    record: dict[str, Any] = {
        "at": time.time(),
        "method": params.get("method", ""),
        "params": {k: v for k, v in params.items() if k not in _HIDDEN},
    }
    platform.calls.append(record)
    f = platform.faults
    if f.latency_ms:
        await asyncio.sleep(f.latency_ms / 1000)
    fault = platform.draw()
    if fault == "timeout":
        record["outcome"] = "timeout"
        await asyncio.sleep(f.timeout_s)
        return web.Response(status=504, text="gateway timeout (simulated)")
    if fault == "failure":
        record["outcome"] = "failure"
        if platform.random.random() < 0.5:
            return web.Response(status=503, text="service unavailable (simulated)")
        return web.json_response(
            taobao.TopError(10, "Service Currently Unavailable", "isp.service-unavailable").body()
        )
    if not platform.bucket.take(params.get("app_key", ""), time.monotonic()):
        record["outcome"] = "rate_limited"
        err = taobao.TopError(7, "App Call Limited", "accesscontrol.limited-by-app-access-count",
                              "This ban will last for 1 more seconds")  # fmt: skip
        return web.json_response(err.body())
    body = taobao.call(platform, params, utcnow())
    err = body.get("error_response")
    record["outcome"] = "ok" if err is None else f"error {err['code']} {err.get('sub_code', '')}".strip()
    return web.json_response(body)


async def faulted(platform: Platform, record: dict[str, Any]) -> web.Response | None:
    """Latency, a timeout (504) or a failure (503) for a non-TOP platform call (JD, PDD); None: go on."""
    f = platform.faults
    if f.latency_ms:
        await asyncio.sleep(f.latency_ms / 1000)
    fault = platform.draw()
    if fault == "timeout":
        record["outcome"] = "timeout"
        await asyncio.sleep(f.timeout_s)
        return web.Response(status=504, text="gateway timeout (simulated)")
    if fault == "failure":
        record["outcome"] = "failure"
        return web.Response(status=503, text="service unavailable (simulated)")
    return None


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok", "platforms": list(request.app[PLATFORMS_KEY])})


def build(seed: int = 0, faults: Faults | None = None, omni_url: str | None = None) -> web.Application:
    app = web.Application(client_max_size=2 * 1024 * 1024)
    app[PLATFORMS_KEY] = {name: Platform(name, seed=seed, faults=faults or Faults()) for name in PLATFORMS}
    app.router.add_route("*", "/taobao/router/rest", top_router)
    app.router.add_get("/_sim/health", health)
    app.router.add_put("/_sim/{platform}/shops", put_shop)
    app.router.add_put("/_sim/{platform}/items", put_item)
    app.router.add_get("/_sim/{platform}/items/{num_iid}", get_item)
    app.router.add_post("/_sim/{platform}/items/{num_iid}/drift", drift)
    app.router.add_route("GET", "/_sim/{platform}/faults", faults_route)
    app.router.add_route("PUT", "/_sim/{platform}/faults", faults_route)
    app.router.add_route("GET", "/_sim/{platform}/calls", calls_route)
    app.router.add_route("DELETE", "/_sim/{platform}/calls", calls_route)
    app.router.add_get("/_sim/{platform}/shipments", shipments_route)
    app.router.add_post("/_sim/{platform}/trades/{tid}/close", close_trade)
    pull.install(app)  # JD and PDD order pull (pull.py)
    platform_apis.install(app)  # JD, PDD, Douyin, Xiaohongshu, Youzan stock and logistics (platform_apis.py)
    push.install(app, omni_url)  # signed orders and refunds pushed to Omni's webhooks (push.py)
    return app


def run(host: str, port: int, seed: int, faults: Faults, omni_url: str | None = None) -> None:
    web.run_app(build(seed, faults, omni_url), host=host, port=port, print=lambda *_: None)
