"""JD refunds: a refund apply (`jingdong.pop.afs.soa.refundapply.queryPageList`'s RefundApplyVo, 售前退款) ->
`channel.refund.received`. Pure. See docs/platforms/jd.md (Refund / after-sale).

Shapes: the API answer `{"jingdong_pop_afs_soa_refundapply_queryPageList_responce": {"queryResult":
{"result": [vo]}}}` (one vo per push), `{"refundApplyVo": vo}` or the bare vo.
Money: `applyRefundSum` is **fen** (a JSON integer or a string of digits; JD's order APIs say yuan).
Kind: a refund apply is a refund before shipping (refund only); an after-sale service document names its
`customerExpect` (10 退货 -> return and refund, 20 换货 -> exchange, 30 维修 is no refund: refused).
Lines: `skuId` / `skuNum` when the apply is for one sku (`showSku`), else none (the whole order).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from omni_contracts.events.channel import ChannelRefundLine, ChannelRefundReceivedV1

from .aftersales_common import Refund, code, reason_text, refund_event, strict_id, unwrap_one
from .money import MoneyFormatError, fen_to_cents
from .normal import china_time, count
from .tmall_fields import Problems

CHANNEL = "jd"
# RefundApplyVo.status (审核状态) -> the neutral status
STATUS = {
    0: "requested",  # 未审核
    1: "agreed",  # 审核通过
    2: "refused",  # 审核不通过
    3: "refunded",  # 京东财务审核通过
    4: "refused",  # 京东财务审核不通过
    5: "agreed",  # 人工审核通过
    6: "refunded",  # 拦截并退款
    7: "agreed",  # 青龙拦截成功
    8: "refused",  # 青龙拦截失败
    9: "refunded",  # 强制关单并退款
    10: "agreed",  # 物流待跟进
}
EXPECT = {10: "return_and_refund", 20: "exchange"}
WRAPPERS = (
    "jingdong_pop_afs_soa_refundapply_queryPageList_responce",
    "queryResult",
    "result",
    "refundApplyVo",
)


def fen(obj: dict[str, Any], key: str, path: str, p: Problems) -> int | None:
    """JD fen: a JSON integer or a string of digits."""
    value = obj.get(key)
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if value is None or value == "":
        p.add(f"{path}{key}", "missing")
        return None
    try:
        return fen_to_cents(value)
    except MoneyFormatError as exc:
        p.add(f"{path}{key}", f"jd: {exc}")
        return None


def normalise_refund(doc: Any, *, shop_id: str, received_at: datetime) -> ChannelRefundReceivedV1:
    vo = unwrap_one(doc, CHANNEL, WRAPPERS, "a refund apply")
    p = Problems()
    refund_id = strict_id(vo, "id", "", p)
    order_id = strict_id(vo, "orderId", "", p)
    status = code(vo, "status", "", p, STATUS, "JD refund apply status")
    kind = "refund_only"
    if vo.get("customerExpect") not in (None, ""):
        expect = code(vo, "customerExpect", "", p, EXPECT, "JD customerExpect (10 退货, 20 换货)")
        kind = EXPECT.get(expect, kind)
    refund = fen(vo, "applyRefundSum", "", p)
    lines = []
    sku = strict_id(vo, "skuId", "", p, required=False)
    if sku:
        qty = count(vo, "skuNum", "", p) if vo.get("skuNum") not in (None, "") else None
        line = ChannelRefundLine(channel_line_id=sku, channel_sku_id=sku, qty=qty, refund_cents=refund or 0)
        lines.append(line)
    return refund_event(
        Refund(
            channel=CHANNEL,
            shop_id=shop_id,
            order_id=order_id,
            refund_id=refund_id,
            kind=kind,
            status=STATUS.get(status, "unknown"),
            channel_status=str(status),
            refund=refund,
            refund_path="applyRefundSum",
            received_at=received_at,
            lines=lines,
            reason=reason_text(vo, ("reason", "refundReason", "checkRemark"), "", p),
            requested_at=china_time(vo, "applyTime", "", p),
            modified_at=china_time(vo, "checkTime", "", p),
        ),
        p,
    )
