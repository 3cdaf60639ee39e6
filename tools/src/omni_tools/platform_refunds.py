"""Signed refund webhooks for every channel, as each platform sends them: the query and the body to POST to
`/channels/{platform}/refunds`. Used by the channel's tests, the end-to-end tests and the simulator's
pushes; the signatures are the channel's own (the same as each platform's order webhook).
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from omni_channel.domain import platform_signing as sig
from omni_channel.domain.signing import format_china_time, sign_tmall

from .platform_orders import signed_order

CHANNELS = ("tmall", "jd", "pdd", "douyin", "xiaohongshu", "youzan")
TMALL_REFUND = {"refund_id": "", "tid": "", "oid": "", "status": "WAIT_SELLER_AGREE", "refund_fee": "1648.00",
                "has_good_return": False, "reason": "不想要了", "num": 1,
                "created": "2025-06-12 11:05:00", "modified": "2025-06-12 11:05:00"}  # fmt: skip


def sample_refund(
    fixtures: Path, platform: str, order_id: str, refund_id: str | None = None
) -> tuple[dict[str, Any], str]:
    """The platform's sample refund (`<platform>_refund.json`) for `order_id`, with a fresh refund id."""
    rid = refund_id or str(random.randint(10**11, 9 * 10**11))
    if platform == "tmall":
        return {**TMALL_REFUND, "refund_id": rid, "tid": order_id, "oid": order_id}, rid
    d = json.loads((fixtures / f"{platform}_refund.json").read_text())
    if platform == "jd":
        vo = d["jingdong_pop_afs_soa_refundapply_queryPageList_responce"]["queryResult"]["result"][0]
        vo["id"], vo["orderId"] = int(rid), order_id
    elif platform == "pdd":
        r = d["refund_information_get_response"]
        r["id"], r["order_sn"] = int(rid), order_id
    elif platform == "douyin":
        d["data"]["process_info"]["after_sale_info"]["aftersale_id"] = rid
        d["data"]["order_info"]["shop_order_id"] = order_id
    elif platform == "xiaohongshu":
        d["data"]["returnsId"], d["data"]["orderId"] = f"R{rid}", order_id
        rid = f"R{rid}"
    elif platform == "youzan":
        d["refund_id"], d["tid"] = rid, order_id
    else:
        raise ValueError(f"no sample refund for platform {platform!r}")
    return d, rid


def signed_refund(
    platform: str, shop_id: str, d: dict[str, Any], app_key: str, secret: str, now: datetime | None = None
) -> tuple[dict[str, str], bytes]:
    """(query, body) of a refund webhook, signed the platform's way at `now` (default: the clock)."""
    now = now or datetime.now(UTC)
    if platform == "tmall":
        return signed_tmall(shop_id, d, app_key, secret, now)
    if platform == "youzan":
        msg = quote(json.dumps(d, ensure_ascii=False, separators=(",", ":")))
        push = {"id": d.get("refund_id", "x"), "msg": msg, "type": "trade_refund_BuyerCreated",
                "kdt_id": int(shop_id), "client_id": app_key, "status": d.get("status", ""), "version": 1,
                "sign": sig.sign_youzan(app_key, msg, secret)}  # fmt: skip
        return {}, json.dumps(push).encode()
    return signed_order(platform, shop_id, d, app_key, secret, now)


def signed_tmall(
    shop_id: str, d: dict[str, Any], app_key: str, secret: str, now: datetime
) -> tuple[dict[str, str], bytes]:
    """(query, body) of a Tmall webhook (a trade or a refund): TOP-signed over the query and the body."""
    body = json.dumps(d, ensure_ascii=False).encode()
    q = {"shop_id": shop_id, "app_key": app_key, "timestamp": format_china_time(now),
         "sign_method": "hmac-sha256"}  # fmt: skip
    q["sign"] = sign_tmall(q, body, secret, "hmac-sha256")
    return q, body


# where each platform's sample refund keeps the refund itself, and how it names each kind
def refund_body(platform: str, d: dict[str, Any]) -> dict[str, Any]:
    if platform == "jd":
        return d["jingdong_pop_afs_soa_refundapply_queryPageList_responce"]["queryResult"]["result"][0]
    if platform == "pdd":
        return d["refund_information_get_response"]
    if platform == "douyin":
        return d["data"]["process_info"]["after_sale_info"]
    if platform == "xiaohongshu":
        return d["data"]
    return d


KIND_FIELDS: dict[str, dict[str, dict[str, Any]]] = {
    "tmall": {"refund_only": {"has_good_return": False}, "return_and_refund": {"has_good_return": True},
              "exchange": {"bill_type": "replace_bill"}},
    "jd": {"refund_only": {}, "return_and_refund": {"customerExpect": 10},
           "exchange": {"customerExpect": 20}},
    "pdd": {"refund_only": {"after_sales_type": 2}, "return_and_refund": {"after_sales_type": 3},
            "exchange": {"after_sales_type": 4}},
    "douyin": {"refund_only": {"aftersale_type": 2}, "return_and_refund": {"aftersale_type": 0},
               "exchange": {"aftersale_type": 3}},
    "xiaohongshu": {"refund_only": {"returnType": 3}, "return_and_refund": {"returnType": 1},
                    "exchange": {"returnType": 2}},
    "youzan": {"refund_only": {"demand": 1}, "return_and_refund": {"demand": 2}, "exchange": {"demand": 3}},
}  # fmt: skip
