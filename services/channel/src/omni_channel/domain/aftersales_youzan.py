"""Youzan refunds: a refund push (`trade_refund_*`, the envelope's `msg` is the URL-encoded refund) or
`youzan.trade.refund.get`'s data -> `channel.refund.received`. Pure. See docs/platforms/youzan.md.

Refund: `refund_id` (string), `tid`, `refund_fee` (**yuan string**), `status` (WAIT_SELLER_AGREE …
SUCCESS, as Taobao's) or the trade's `refund_state` code (1 申请待同意 … 60 退款成功), `demand` (1 仅退款,
2 退货退款, 3 换货), `reason` / `desc`, `created` / `modified` (GMT+8), `oids[]` {oid, refund_fee?,
num?}: the lines; when each names its refund_fee they add up to the total.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import unquote

from omni_contracts.events.channel import ChannelRefundLine, ChannelRefundReceivedV1

from .aftersales_common import Refund, code, lines_of, reason_text, refund_event, strict_id, unwrap_one
from .errors import InvalidTrade, MalformedPayload, Problem
from .money import yuan_to_cents
from .normal import amount, china_time, count
from .tmall_fields import Problems, parse_json

CHANNEL = "youzan"
KIND = {1: "refund_only", 2: "return_and_refund", 3: "exchange"}
STATUS = {
    "WAIT_SELLER_AGREE": "requested",
    "WAIT_BUYER_RETURN_GOODS": "awaiting_return",
    "WAIT_SELLER_CONFIRM_GOODS": "returned",
    "SELLER_REFUSE_BUYER": "refused",
    "SELLER_REFUSE_BUYER_RETURN_GOODS": "refused",
    "CLOSED": "closed",
    "SUCCESS": "refunded",
}
STATE = {
    1: "requested",  # 申请待同意
    10: "refused",  # 卖家拒绝
    20: "awaiting_return",  # 同意待退货
    30: "returned",  # 买家已退货待确认
    40: "refused",  # 未收到货拒绝
    50: "closed",  # 退款关闭
    60: "refunded",  # 退款成功
}


def refund_of_push(doc: dict[str, Any]) -> Any:
    """The refund a push envelope carries (its msg, URL-encoded JSON), or the document itself."""
    if "msg" not in doc:
        return doc
    try:
        return parse_json(unquote(doc["msg"]).encode("utf-8"))
    except (MalformedPayload, UnicodeEncodeError) as exc:
        reason = getattr(exc, "reason", str(exc))
        raise InvalidTrade([Problem("msg", f"youzan: msg is not URL-encoded JSON ({reason})")]) from None


def normalise_refund(doc: Any, *, shop_id: str, received_at: datetime) -> ChannelRefundReceivedV1:
    r = unwrap_one(refund_of_push(doc) if isinstance(doc, dict) else doc, CHANNEL, ("data",), "a refund")
    p = Problems()
    refund_id = strict_id(r, "refund_id", "", p)
    tid = strict_id(r, "tid", "", p)
    kind = code(r, "demand", "", p, KIND, "Youzan demand (1 仅退款, 2 退货退款, 3 换货)")
    if r.get("status") not in (None, ""):
        raw = code(r, "status", "", p, STATUS, "Youzan refund status")
        neutral = STATUS.get(raw, "unknown")
    else:
        raw = code(r, "refund_state", "", p, STATE, "Youzan refund_state")
        neutral = STATE.get(raw, "unknown")
    refund = amount(r, "refund_fee", "", p, yuan_to_cents, required=True)
    rows = lines_of(r, "oids", "", p)
    lines = []
    every_fee = all(row.get("refund_fee") not in (None, "") for row in rows)
    for i, row in enumerate(rows):
        path = f"oids[{i}]."
        oid = strict_id(row, "oid", path, p)
        fee = amount(row, "refund_fee", path, p, yuan_to_cents)
        if fee is None and len(rows) == 1:
            fee = refund
        lines.append(
            ChannelRefundLine(
                channel_line_id=oid or "?",
                channel_sku_id=strict_id(row, "sku_id", path, p, required=False),
                outer_sku_id=str(row["outer_sku_id"])[:128] if row.get("outer_sku_id") else None,
                qty=count(row, "num", path, p) if "num" in row else None,
                refund_cents=fee or 0,
            )
        )
    return refund_event(
        Refund(
            channel=CHANNEL,
            shop_id=shop_id,
            order_id=tid,
            refund_id=refund_id,
            kind=KIND.get(kind),
            status=neutral,
            channel_status=str(raw),
            refund=refund,
            refund_path="refund_fee",
            received_at=received_at,
            lines=lines,
            line_sum_path="oids" if every_fee and len(rows) > 1 else "",
            reason=reason_text(r, ("desc", "reason"), "", p),
            requested_at=china_time(r, "created", "", p),
            modified_at=china_time(r, "modified", "", p),
        ),
        p,
    )
