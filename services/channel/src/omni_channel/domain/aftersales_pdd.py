"""Pinduoduo refunds: an after-sale (`pdd.refund.information.get`, or one row of
`pdd.refund.list.increment.get`) -> `channel.refund.received`. Pure. See docs/platforms/pdd.md.

Shapes: `{"refund_information_get_response": {...}}`, `{"refund_increment_get_response": {"refund_list":
[one]}}` or the bare after-sale. Money: yuan, a JSON number (information.get, read from the JSON text as a
Decimal) or a string (the increment list); exact fen either way. `id` is the after-sale id (Long).
Kind: `after_sales_type` 2 仅退款, 3 退货退款, 4 换货 (1 means "all" in queries; 5 缺货补寄 and 6 维修 are
no refund: refused). Line: PDD orders have no line ids; the line is `<sku_id>` as the order adapter names it.
Check: the refund is at most what the order was paid (`order_amount`) when that is given.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from omni_contracts.events.channel import ChannelRefundLine, ChannelRefundReceivedV1

from .aftersales_common import Refund, code, reason_text, refund_event, strict_id, unwrap_one
from .money import MoneyFormatError, yuan_number_to_cents, yuan_to_cents
from .normal import china_time, count
from .tmall_fields import Problems, yuan

CHANNEL = "pdd"
KIND = {2: "refund_only", 3: "return_and_refund", 4: "exchange"}
# after_sales_status -> the neutral status
STATUS = {
    2: "requested",  # 买家申请退款，待商家处理
    3: "requested",  # 退货退款，待商家处理
    4: "agreed",  # 商家同意退款，退款中
    5: "agreed",  # 平台同意退款，退款中
    6: "refused",  # 驳回退款，待买家处理
    7: "awaiting_return",  # 已同意退货退款，待用户发货
    8: "requested",  # 平台处理中
    9: "closed",  # 平台拒绝退款，退款关闭
    10: "refunded",  # 退款成功
    11: "closed",  # 买家撤销
    12: "closed",  # 买家逾期未处理，退款失败
    13: "closed",  # 买家逾期，超过有效期
    14: "requested",  # 换货补寄待商家处理
    15: "awaiting_return",  # 换货补寄待用户处理
    16: "refunded",  # 换货补寄成功
    17: "closed",  # 换货补寄失败
    18: "returned",  # 换货补寄待用户确认完成
    27: "returned",  # 待用户确认收货
    31: "agreed",  # 已同意拒收退款，待用户拒收
    33: "agreed",  # 同意召回后退款，待商家召回
}
WRAPPERS = ("refund_information_get_response", "refund_increment_get_response", "refund_list")


def yuan_any(obj: dict[str, Any], key: str, path: str, p: Problems, *, required: bool) -> int | None:
    value = obj.get(key)
    if value is None or value == "":
        if required:
            p.add(f"{path}{key}", "missing")
        return None
    try:
        return yuan_to_cents(value) if isinstance(value, str) else yuan_number_to_cents(value)
    except MoneyFormatError as exc:
        p.add(f"{path}{key}", f"pdd: {exc}")
        return None


def normalise_refund(doc: Any, *, shop_id: str, received_at: datetime) -> ChannelRefundReceivedV1:
    r = unwrap_one(doc, CHANNEL, WRAPPERS, "an after-sale")
    p = Problems()
    refund_id = strict_id(r, "id", "", p)
    order_sn = strict_id(r, "order_sn", "", p)
    kind = code(r, "after_sales_type", "", p, KIND, "PDD after_sales_type (2 仅退款, 3 退货退款, 4 换货)")
    status = code(r, "after_sales_status", "", p, STATUS, "PDD after_sales_status")
    refund = yuan_any(r, "refund_amount", "", p, required=True)
    paid = yuan_any(r, "order_amount", "", p, required=False)
    if refund is not None and paid is not None and refund > paid:
        p.add("refund_amount", f"pdd: {yuan(refund)} is more than the order's order_amount {yuan(paid)}")
    lines = []
    sku = strict_id(r, "sku_id", "", p, required=False)
    if sku:
        qty = count(r, "goods_number", "", p) if r.get("goods_number") not in (None, "") else None
        outer = r.get("outer_id")
        lines.append(
            ChannelRefundLine(
                channel_line_id=sku,
                channel_sku_id=sku,
                outer_sku_id=str(outer)[:128] if outer not in (None, "") else None,
                qty=qty,
                refund_cents=refund or 0,
            )
        )
    return refund_event(
        Refund(
            channel=CHANNEL,
            shop_id=shop_id,
            order_id=order_sn,
            refund_id=refund_id,
            kind=KIND.get(kind),
            status=STATUS.get(status, "unknown"),
            channel_status=str(status),
            refund=refund,
            refund_path="refund_amount",
            received_at=received_at,
            lines=lines,
            reason=reason_text(r, ("after_sales_reason", "reason"), "", p),
            requested_at=china_time(r, "created_time", "", p),
            modified_at=china_time(r, "updated_time", "", p),
        ),
        p,
    )
