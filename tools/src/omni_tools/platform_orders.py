"""Signed order webhooks for JD, Pinduoduo, Douyin, Xiaohongshu, Youzan and 1688 (`alibaba`), as each platform
(or, for the pull platforms and 1688, Omni's documented push shape) sends them: the query and the body to POST
to `/channels/{platform}/orders`. Used by the channel's tests and the end-to-end tests; the signatures are the
channel's own (`omni_channel.domain.platform_signing`, checked there against the documented vectors).

`PLATFORMS` are the B2C platforms every platform e2e test runs (orders, stock, logistics); 1688 has orders
only (no stock push or write-back client yet), so it is apart in `ORDER_ONLY_PLATFORMS`.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from omni_channel.domain import platform_signing as sig
from omni_channel.domain.signing import format_china_time

PLATFORMS = ("jd", "pdd", "douyin", "xiaohongshu", "youzan")
ORDER_ONLY_PLATFORMS = ("alibaba",)


def sample_order(fixtures: Path, platform: str, order_id: int | None = None) -> tuple[dict[str, Any], str]:
    """The platform's sample order (`<platform>_order.json` in `fixtures`) with a fresh order id."""
    d = json.loads((fixtures / f"{platform}_order.json").read_text())
    n = order_id if order_id is not None else random.randint(10**11, 9 * 10**11)
    if platform == "jd":
        d["jingdong_pop_order_get_responce"]["orderDetailInfo"]["orderInfo"]["orderId"] = oid = str(n)
    elif platform == "pdd":
        d["order_info_get_response"]["order_info"]["order_sn"] = oid = f"250612-{n}"
    elif platform == "douyin":
        d["data"]["shop_order_detail"]["order_id"] = oid = str(6 * 10**18 + n)
    elif platform == "xiaohongshu":
        d["data"]["orderId"] = oid = f"P{n}"
    elif platform == "youzan":
        d["full_order_info"]["order_info"]["tid"] = oid = f"E{n}"
    elif platform == "alibaba":
        base = d["result"]["baseInfo"]
        base["id"] = 2 * 10**18 + n
        base["idOfStr"] = oid = str(base["id"])
        for i, item in enumerate(d["result"]["productItems"], start=1):
            item["subItemID"] = base["id"] + i
            item["subItemIDString"] = str(item["subItemID"])
    else:
        raise ValueError(f"no sample order for platform {platform!r}")
    return d, oid


def signed_order(
    platform: str, shop_id: str, d: dict[str, Any], app_key: str, secret: str, now: datetime | None = None
) -> tuple[dict[str, str], bytes]:
    """(query, body) of an order webhook, signed the platform's way at `now` (default: the clock)."""
    now = now or datetime.now(UTC)
    ts = str(int(now.timestamp()))
    body = json.dumps(d, ensure_ascii=False, separators=(",", ":"))
    if platform == "jd":
        q = {"app_key": app_key, "method": "jingdong.pop.order.get", "timestamp": format_china_time(now),
             "v": "2.0"}  # fmt: skip
        q["sign"] = sig.sign_jd({**q, "360buy_param_json": body}, secret)
    elif platform == "pdd":
        q = {"client_id": app_key, "type": "pdd.order.information.get", "timestamp": ts, "data_type": "JSON"}
        q["sign"] = sig.sign_pdd({**q, "data": body}, secret)
    elif platform == "douyin":
        q = {"app_key": app_key, "timestamp": ts, "sign_method": "hmac-sha256"}
        q["sign"] = sig.sign_douyin(app_key, body, ts, secret, "hmac-sha256")
    elif platform == "xiaohongshu":
        d = {**d, "appId": app_key, "timestamp": ts, "version": "2.0", "method": "order.getOrderDetail"}
        d["sign"] = sig.sign_xiaohongshu("order.getOrderDetail", app_key, ts, "2.0", secret)
        return {"shop_id": shop_id}, json.dumps(d, ensure_ascii=False).encode()
    elif platform == "youzan":
        msg = quote(body)
        push = {"id": "x", "msg": msg, "type": "trade_TradePaid", "kdt_id": int(shop_id),
                "client_id": app_key, "status": "WAIT_SELLER_SEND_GOODS", "version": 1,
                "sign": sig.sign_youzan(app_key, msg, secret)}  # fmt: skip
        return {}, json.dumps(push).encode()
    elif platform == "alibaba":
        q = {"app_key": app_key, "_aop_timestamp": str(int(now.timestamp() * 1000))}
        signed = {**q, "shop_id": shop_id, "message": body}
        q["_aop_signature"] = sig.sign_alibaba(sig.alibaba_url_path(app_key), signed, secret)
    else:
        raise ValueError(f"unknown platform {platform!r}")
    return {"shop_id": shop_id, **q}, body.encode()
