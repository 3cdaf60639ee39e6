"""The simulator pushing to Omni, as each platform does: an order or a refund, signed with the shop's secret
(registered by `PUT /_sim/{platform}/shops`) the platform's way (omni_tools.platform_orders /
platform_refunds), POSTed to Omni's public webhook (the gateway's `/channels/{channel}/orders|refunds`, no
API key) at the target URL (`--omni-url`, env OMNI_SIM_OMNI_URL, default http://127.0.0.1:8000).

    POST /_sim/{platform}/push/orders   {shop_id, order?, status?}: the sample order with a fresh id (or
                                        `order`, the platform's document as is); `status` sets its raw status
                                        (e.g. TRADE_CANCELED, 4) to push a close
    POST /_sim/{platform}/push/refunds  {shop_id, channel_order_id, kind?, status?, refund?}: the sample
                                        refund of that order with a fresh refund id, of `kind` (refund_only,
                                        return_and_refund, exchange); `status` the platform's raw status

Both answer `{"status", "body", "channel_order_id"(, "channel_refund_id")}`: what Omni answered. `taobao`
pushes as the channel `tmall`. 1688 (`alibaba`) pushes orders only (its sellerView detail, signed HMAC-SHA1
over the urlPath and the sorted key+value pairs); its refunds are a 404. The samples are the channel's test
fixtures (services/channel/tests/fixtures).
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any, Literal

import aiohttp
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

import omni_channel
from omni_contracts import utcnow

from ..platform_orders import ORDER_ONLY_PLATFORMS, sample_order, signed_order
from ..platform_refunds import KIND_FIELDS, refund_body, sample_refund, signed_refund, signed_tmall
from .state import Platform

FIXTURES = Path(omni_channel.__file__).resolve().parents[2] / "tests" / "fixtures"
DEFAULT_OMNI_URL = "http://127.0.0.1:8000"
OMNI_URL_KEY: web.AppKey[str] = web.AppKey("omni_url")
CHANNEL_OF = {"taobao": "tmall"}


class OrderPush(BaseModel):
    model_config = ConfigDict(extra="forbid")

    shop_id: str = Field(min_length=1, max_length=64)
    order: dict[str, Any] | None = Field(None, description="the platform's order document, sent as is")
    status: str | int | None = Field(None, description="the platform's raw order status to set")


class RefundPush(BaseModel):
    model_config = ConfigDict(extra="forbid")

    shop_id: str = Field(min_length=1, max_length=64)
    channel_order_id: str = Field(min_length=1, max_length=64)
    kind: Literal["refund_only", "return_and_refund", "exchange"] = "refund_only"
    status: str | int | None = Field(None, description="the platform's raw refund status to set")
    refund: dict[str, Any] | None = Field(None, description="the platform's refund document, sent as is")


def _shop(platform: Platform, shop_id: str) -> tuple[str, str]:
    for shop in platform.shops.values():
        if shop.shop_id == shop_id:
            return shop.app_key, shop.secret
    raise LookupError(f"no shop {shop_id!r} on {platform.name}: PUT /_sim/{platform.name}/shops first")


def _tmall_trade(status: Any) -> tuple[dict[str, Any], str]:
    d = json.loads((FIXTURES / "tmall_trade.json").read_text())
    trade = d["trade_fullinfo_get_response"]["trade"]
    tid = random.randint(10**18, 9 * 10**18)
    trade["tid"], trade["tid_str"] = tid, str(tid)
    for i, o in enumerate(trade["orders"]["order"], start=1):
        o["oid"], o["oid_str"] = tid + i, str(tid + i)
    if status is not None:
        trade["status"] = status
    return d, str(tid)


def _set_order_status(channel: str, d: dict[str, Any], status: Any) -> None:
    if channel == "jd":
        d["jingdong_pop_order_get_responce"]["orderDetailInfo"]["orderInfo"]["orderState"] = status
    elif channel == "pdd":
        d["order_info_get_response"]["order_info"]["order_status"] = status
    elif channel == "douyin":
        d["data"]["shop_order_detail"]["order_status"] = status
    elif channel == "xiaohongshu":
        d["data"]["orderStatus"] = status
    elif channel == "youzan":
        d["full_order_info"]["order_info"]["status"] = status
    elif channel == "alibaba":
        d["result"]["baseInfo"]["status"] = status


async def _post(request: web.Request, channel: str, what: str, query: dict[str, str], body: bytes) -> Any:
    url = f"{request.app[OMNI_URL_KEY].rstrip('/')}/channels/{channel}/{what}"
    timeout = aiohttp.ClientTimeout(total=30)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as session:
            async with session.post(url, params=query, data=body,
                                    headers={"content-type": "application/json"}) as r:  # fmt: skip
                status, text = r.status, await r.text()
    except (aiohttp.ClientError, TimeoutError) as exc:
        return 502, {"detail": f"Omni did not answer at {url}: {type(exc).__name__}"}
    try:
        answer: Any = json.loads(text)
    except ValueError:
        answer = text[:2000]
    return status, answer


async def push_order(request: web.Request, platform: Platform) -> web.Response:
    from .server import _model

    push = await _model(request, OrderPush)
    channel = CHANNEL_OF.get(platform.name, platform.name)
    app_key, secret = _shop(platform, push.shop_id)
    now = utcnow()
    if channel == "tmall":
        doc, oid = (push.order, "") if push.order else _tmall_trade(push.status)
        query, body = signed_tmall(push.shop_id, doc, app_key, secret, now)
    else:
        doc, oid = (push.order, "") if push.order else sample_order(FIXTURES, channel)
        if push.status is not None and not push.order:
            _set_order_status(channel, doc, push.status)
        query, body = signed_order(channel, push.shop_id, doc, app_key, secret, now)
    status, answer = await _post(request, channel, "orders", query, body)
    return web.json_response({"status": status, "body": answer, "channel_order_id": oid or None})


async def push_refund(request: web.Request, platform: Platform) -> web.Response:
    from .server import _model

    push = await _model(request, RefundPush)
    channel = CHANNEL_OF.get(platform.name, platform.name)
    if channel in ORDER_ONLY_PLATFORMS:
        raise LookupError(f"no refund push for {platform.name}: it pushes orders only")
    app_key, secret = _shop(platform, push.shop_id)
    if push.refund:
        doc, rid = push.refund, None
    else:
        doc, rid = sample_refund(FIXTURES, channel, push.channel_order_id)
        inner = doc if channel == "tmall" else refund_body(channel, doc)
        inner.update(KIND_FIELDS[channel][push.kind])
        if push.status is not None:
            inner["after_sales_status" if channel == "pdd" else _status_key(channel)] = push.status
    query, body = signed_refund(channel, push.shop_id, doc, app_key, secret, utcnow())
    status, answer = await _post(request, channel, "refunds", query, body)
    return web.json_response({"status": status, "body": answer, "channel_order_id": push.channel_order_id,
                              "channel_refund_id": rid})  # fmt: skip


def _status_key(channel: str) -> str:
    return {"douyin": "aftersale_status"}.get(channel, "status")


def install(app: web.Application, omni_url: str | None = None) -> None:
    from .server import _admin

    app[OMNI_URL_KEY] = omni_url or os.environ.get("OMNI_SIM_OMNI_URL") or DEFAULT_OMNI_URL
    app.router.add_post("/_sim/{platform}/push/orders", _admin(push_order))
    app.router.add_post("/_sim/{platform}/push/refunds", _admin(push_refund))
