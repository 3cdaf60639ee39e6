"""`taobao.logistics.offline.send` as the simulator serves it (自己联系物流: the seller ships with its own
carrier and tells the platform the tracking number). Parameters: `tid` (required, the trade), `out_sid`
(required, the tracking number), `company_code` (required, one of COMPANY_CODES), `is_split` / `sub_tid`
(a split shipment of some order lines; recorded, not checked) -> `logistics_offline_send_response.shipping`
{`is_success`: true}. The trade's status becomes WAIT_BUYER_CONFIRM_GOODS.

Refusals (code 15, `isv.*`, not to be retried as they are): an unknown company code
(`isv.logistics-offline-service-error:P38`), a closed trade (`POST /_sim/taobao/trades/{tid}/close`:
`isv.logistics-offline-service-error:B04`), a trade already shipped under another tracking number
(`isv.logistics-offline-service-error:B27`). The same shipment sent again is answered with success (a retry
after a timeout whose first call got through). Each write-back is kept: `GET /_sim/taobao/shipments`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from omni_channel.domain.signing import format_china_time

COMPANY_CODES = frozenset(
    {"SF", "ZTO", "YTO", "STO", "YUNDA", "EMS", "POSTB", "JD", "DBKD", "HTKY", "JTSD", "ZJS", "OTHER"}
)


def offline_send(platform: Any, shop_id: str, params: dict[str, str], now: datetime) -> dict[str, Any]:
    from .taobao import TopError, _int, refused

    tid = _int(params, "tid", required=True)
    out_sid = (params.get("out_sid") or "").strip()
    code = (params.get("company_code") or "").strip()
    for name, value in (("out_sid", out_sid), ("company_code", code)):
        if not value:
            raise TopError(
                40, "Missing Required Arguments", f"missing-parameter:{name}", f"{name} is required"
            )
    if code not in COMPANY_CODES:
        raise refused("isv.logistics-offline-service-error:P38", f"物流公司不存在: company_code {code}")
    if tid in platform.closed_trades:
        raise refused("isv.logistics-offline-service-error:B04", f"交易已关闭, 不能发货: tid {tid}")
    held = platform.shipments.get(tid)
    if held is not None and (held["out_sid"], held["company_code"]) != (out_sid, code):
        raise refused("isv.logistics-offline-service-error:B27", f"订单已发货: tid {tid}")
    if held is None:
        platform.shipments[tid] = {
            "tid": tid,
            "shop_id": shop_id,
            "out_sid": out_sid,
            "company_code": code,
            "is_split": params.get("is_split", "0"),
            "sub_tid": params.get("sub_tid"),
            "status": "WAIT_BUYER_CONFIRM_GOODS",
            "consign_time": format_china_time(now),
            "sends": 1,
        }
    else:
        held["sends"] += 1
    return {"logistics_offline_send_response": {"shipping": {"is_success": True}}}
