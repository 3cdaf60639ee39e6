"""Xiaohongshu refunds: an after-sale (`afterSale.getAfterSaleDetail`'s data) -> `channel.refund.received`.
Pure. See docs/platforms/xiaohongshu.md (Refund / after-sale).

Shape: `{"success": true, "data": {...}}` or the bare after-sale (beside the signed system parameters).
Ids: `returnsId` (or `afterSaleId`), `orderId`. Money: `refundAmount` **fen** (an integer, as the order
APIs) or the newer `refundAmountYuan` (yuan, a string or number); when both are sent they must agree.
Times: **milliseconds**. Kind: `returnType` 1 退货退款, 2 换货, 3 仅退款 (未发货), 4 仅退款 (已发货).
Status: `status` 1 待审核 … 9 拒绝; `refundStatus` 2 (退款成功) makes it refunded.
Lines: `skus[]` {skuId, erpcode, appliedCount, refundAmount (fen)}; their refunds add up to the total.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from omni_contracts.events.channel import ChannelRefundLine, ChannelRefundReceivedV1

from .aftersales_common import Refund, code, lines_of, reason_text, refund_event, strict_id, unwrap_one
from .errors import InvalidTrade, Problem
from .money import MoneyFormatError, fen_to_cents, yuan_number_to_cents, yuan_to_cents
from .normal import amount, count, epoch_time
from .tmall_fields import Problems, yuan

CHANNEL = "xiaohongshu"
KIND = {1: "return_and_refund", 2: "exchange", 3: "refund_only", 4: "refund_only"}
STATUS = {
    1: "requested",  # 待审核
    2: "awaiting_return",  # 待用户寄回
    3: "returned",  # 待收货 (the seller is to receive it)
    4: "refunded",  # 完成
    5: "closed",  # 取消
    6: "closed",  # 关闭
    9: "refused",  # 拒绝
}
REFUNDED = 2  # refundStatus 退款成功


def _total(r: dict[str, Any], p: Problems) -> int | None:
    as_fen = amount(r, "refundAmount", "", p, fen_to_cents)
    value = r.get("refundAmountYuan")
    as_yuan = None
    if value not in (None, ""):
        try:
            as_yuan = yuan_to_cents(value) if isinstance(value, str) else yuan_number_to_cents(value)
        except MoneyFormatError as exc:
            p.add("refundAmountYuan", f"xiaohongshu: {exc}")
    if as_fen is not None and as_yuan is not None and as_fen != as_yuan:
        p.add("refundAmountYuan", f"xiaohongshu: {yuan(as_yuan)} disagrees with refundAmount ({as_fen} fen)")
    if as_fen is None and as_yuan is None and not p:
        p.add("refundAmount", "missing")
    return as_fen if as_fen is not None else as_yuan


def normalise_refund(doc: Any, *, shop_id: str, received_at: datetime) -> ChannelRefundReceivedV1:
    if isinstance(doc, dict) and (doc.get("success") is False or doc.get("error_code") not in (None, 0, "0")):
        raise InvalidTrade([Problem("error_code", "xiaohongshu: an error response, not an after-sale")])
    r = unwrap_one(doc, CHANNEL, ("data",), "an after-sale")
    p = Problems()
    refund_id = strict_id(r, "returnsId", "", p, required=False) or strict_id(r, "afterSaleId", "", p)
    order_id = strict_id(r, "orderId", "", p)
    kind = code(r, "returnType", "", p, KIND, "Xiaohongshu returnType (1 退货退款, 2 换货, 3/4 仅退款)")
    status = code(r, "status", "", p, STATUS, "Xiaohongshu after-sale status")
    neutral = STATUS.get(status, "unknown")
    if r.get("refundStatus") == REFUNDED:
        neutral = "refunded"
    refund = _total(r, p)
    lines = []
    for i, s in enumerate(lines_of(r, "skus", "", p)):
        path = f"skus[{i}]."
        sku = strict_id(s, "skuId", path, p)
        lines.append(
            ChannelRefundLine(
                channel_line_id=sku or "?",
                channel_sku_id=sku,
                outer_sku_id=str(s["erpcode"])[:128] if s.get("erpcode") else None,
                qty=count(s, "appliedCount", path, p) if "appliedCount" in s else None,
                refund_cents=amount(s, "refundAmount", path, p, fen_to_cents, required=True) or 0,
            )
        )
    return refund_event(
        Refund(
            channel=CHANNEL,
            shop_id=shop_id,
            order_id=order_id,
            refund_id=refund_id,
            kind=KIND.get(kind),
            status=neutral,
            channel_status=f"{status}/{str(r['refundStatus'])[:8]}" if "refundStatus" in r else str(status),
            refund=refund,
            refund_path="refundAmount",
            received_at=received_at,
            lines=lines,
            line_sum_path="skus",
            reason=reason_text(r, ("reasonNameZh", "reason"), "", p),
            requested_at=epoch_time(r, "createdTime", "", p, millis=True),
            modified_at=epoch_time(r, "updatedTime", "", p, millis=True),
        ),
        p,
    )
