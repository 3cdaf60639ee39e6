"""Douyin (抖店) refunds: an after-sale (`afterSale/Detail`'s data) -> `channel.refund.received`. Pure.
See docs/platforms/douyin.md (Refund / after-sale).

Shape: `{"code": 10000, "data": {"process_info": {"after_sale_info": {...}}, "order_info": {"shop_order_id",
"related_order_info": [{"sku_order_id", "product_id", "shop_sku_code", "aftersale_item_num",
"refund_amount"?}]}}}`, or its `data`. Money: **fen** integers (`refund_amount` includes
`refund_post_amount`). Times: unix seconds. Ids: Douyin's are 19 digits: send them as strings.
Kind: `aftersale_type` 0 退货退款; 1 已发货仅退款, 2 未发货仅退款, 4 系统取消, 5 用户取消, 6 价保 (refunds
only); 3 换货; 7 补寄 is no refund (refused).
Lines: each related sku order; with several, each must carry its `refund_amount` (they must add up).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from omni_contracts.events.channel import ChannelRefundLine, ChannelRefundReceivedV1

from .aftersales_common import Refund, code, lines_of, reason_text, refund_event, strict_id, unwrap_one
from .errors import InvalidTrade, Problem
from .money import fen_to_cents
from .normal import amount, count, epoch_time, obj_at
from .tmall_fields import Problems

CHANNEL = "douyin"
KIND = {
    0: "return_and_refund",
    1: "refund_only",
    2: "refund_only",
    3: "exchange",
    4: "refund_only",
    5: "refund_only",
    6: "refund_only",
}
# aftersale_status -> the neutral status
STATUS = {
    6: "requested",  # 售后申请
    7: "awaiting_return",  # 售后退货中
    8: "agreed",  # 待商家处理退货 (同意退款)
    11: "returned",  # 售后已发货 (the buyer sent it back)
    12: "refunded",  # 售后成功
    13: "agreed",  # 换货补寄待商家收货
    14: "agreed",  # 换货补寄待用户收货
    27: "refused",  # 拒绝售后申请
    28: "closed",  # 售后失败
    29: "refused",  # 退货后拒绝退款
    51: "refunded",  # 订单取消成功
    53: "refunded",  # 逆向交易完成
}


def unwrap(doc: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """(after_sale_info, order_info) of an afterSale/Detail answer (or of its `data`)."""
    if isinstance(doc, dict) and "code" in doc and doc.get("code") != 10000:
        raise InvalidTrade([Problem("code", f"douyin: an error response (code {str(doc.get('code'))[:20]})")])
    data = unwrap_one(doc, CHANNEL, ("data",), "an after-sale")
    p = Problems()
    process = obj_at(data.get("process_info"), "process_info", p)
    info = obj_at(process.get("after_sale_info"), "process_info.after_sale_info", p)
    order = obj_at(data.get("order_info"), "order_info", p)
    if not info and not p:
        p.add("process_info.after_sale_info", "douyin: missing")
    if p:
        raise InvalidTrade(p.items)
    return info, order


def normalise_refund(doc: Any, *, shop_id: str, received_at: datetime) -> ChannelRefundReceivedV1:
    info, order = unwrap(doc)
    a, o = "process_info.after_sale_info.", "order_info."
    p = Problems()
    refund_id = strict_id(info, "aftersale_id", a, p)
    order_id = strict_id(order, "shop_order_id", o, p)
    kind = code(info, "aftersale_type", a, p, KIND, "Douyin aftersale_type (0 退货退款, 1/2 仅退款, 3 换货)")
    status = code(info, "aftersale_status", a, p, STATUS, "Douyin aftersale_status")
    refund = amount(info, "refund_amount", a, p, fen_to_cents, required=True)
    post = amount(info, "refund_post_amount", a, p, fen_to_cents) or 0
    rows = lines_of(order, "related_order_info", o, p)
    lines = []
    for i, row in enumerate(rows):
        path = f"{o}related_order_info[{i}]."
        line_refund = amount(row, "refund_amount", path, p, fen_to_cents)
        if line_refund is None and len(rows) == 1 and refund is not None:
            line_refund = max(0, refund - post)
        elif line_refund is None:
            p.add(f"{path}refund_amount", "douyin: missing: with several sku orders each names its refund")
        sku_order = strict_id(row, "sku_order_id", path, p)
        sku = strict_id(row, "sku_id", path, p, required=False)
        lines.append(
            ChannelRefundLine(
                channel_line_id=sku_order or "?",
                channel_sku_id=sku,
                outer_sku_id=str(row["shop_sku_code"])[:128] if row.get("shop_sku_code") else None,
                qty=count(row, "aftersale_item_num", path, p) if "aftersale_item_num" in row else None,
                refund_cents=line_refund or 0,
            )
        )
    return refund_event(
        Refund(
            channel=CHANNEL,
            shop_id=shop_id,
            order_id=order_id,
            refund_id=refund_id,
            kind=KIND.get(kind),
            status=STATUS.get(status, "unknown"),
            channel_status=str(status),
            refund=refund,
            refund_path=f"{a}refund_amount",
            received_at=received_at,
            lines=lines,
            line_sum_path=f"{o}related_order_info",
            freight=post,
            reason=reason_text(info, ("reason", "reason_remark"), a, p),
            requested_at=epoch_time(info, "apply_time", a, p, millis=False),
            modified_at=epoch_time(info, "update_time", a, p, millis=False),
        ),
        p,
    )
