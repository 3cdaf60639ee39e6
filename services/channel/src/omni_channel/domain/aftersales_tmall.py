"""Tmall/Taobao after-sales: a refund (`taobao.refund.get`'s Refund struct, or its TMC message) ->
`channel.refund.received`; a closed trade (TRADE_CLOSED, TRADE_CLOSED_BY_TAOBAO) -> `channel.order.closed`.
Money exact in fen with the trade's helpers (yuan strings); ids as `<name>_str` or safe integers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from omni_contracts.events.channel import (
    ChannelOrderClosedV1,
    ChannelRefundLine,
    ChannelRefundReceivedV1,
)

from .errors import InvalidTrade, Problem
from .tmall import CHANNEL
from .tmall_fields import Problems, china_time, money, platform_id, qty, text

# the platform's refund status -> the neutral one
REFUND_STATUS = {
    "WAIT_SELLER_AGREE": "requested",
    "WAIT_BUYER_RETURN_GOODS": "awaiting_return",
    "WAIT_SELLER_CONFIRM_GOODS": "returned",
    "SELLER_REFUSE_BUYER": "refused",
    "SUCCESS": "refunded",
    "CLOSED": "closed",
}
# TMC bill_type -> kind (the Refund struct says has_good_return instead)
BILL_KIND = {"refund_bill": "refund_only", "return_bill": "return_and_refund", "replace_bill": "exchange"}
REASON_MAX = 500
CLOSE_REASON = {"TRADE_CLOSED": "refunded", "TRADE_CLOSED_BY_TAOBAO": "platform_close"}


def _unwrap(doc: Any) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise InvalidTrade([Problem("$", "the body must be a JSON object (a refund)")])
    inner = doc.get("refund_get_response", doc)
    if isinstance(inner, dict) and isinstance(inner.get("refund"), dict):
        return inner["refund"]
    if not isinstance(inner, dict):
        raise InvalidTrade([Problem("refund_get_response", "must be an object")])
    return inner


def normalise_refund(doc: Any, *, shop_id: str, received_at: datetime) -> ChannelRefundReceivedV1:
    """A Tmall refund -> the event. Raises InvalidTrade naming every bad field."""
    r = _unwrap(doc)
    p = Problems()
    refund_id = platform_id(r, "refund_id", "", p, required=True)
    tid = platform_id(r, "tid", "", p, required=True)
    oid = platform_id(r, "oid", "", p, required=False)
    status = r.get("status")
    if status in (None, ""):
        p.add("status", "missing")
    elif not isinstance(status, str) or not status.isascii() or len(status) > 64:
        p.add("status", f"must be the platform's refund status, got {status!r}")
    refund_cents = money(r, "refund_fee", "refund_fee", p, required=True)
    bill = r.get("bill_type")
    good_return = r.get("has_good_return")
    if bill not in (None, "") and bill not in BILL_KIND:
        p.add("bill_type", f"unknown bill_type {bill!r}; one of {', '.join(BILL_KIND)}")
    if good_return not in (None, "") and not isinstance(good_return, bool):
        p.add("has_good_return", f"must be true or false, got {good_return!r}")
    num = qty(r["num"], "num", p) if r.get("num") not in (None, "") else None
    reason = text(r.get("reason"))
    if len(reason) > REASON_MAX:
        p.add("reason", f"too long: {len(reason)} characters, at most {REASON_MAX}")
    created = china_time(r, "created", p)
    modified = china_time(r, "modified", p)
    if p:
        raise InvalidTrade(p.items)
    assert refund_id and tid and isinstance(status, str) and refund_cents is not None
    if bill:
        kind = BILL_KIND[bill]
    else:
        kind = "return_and_refund" if good_return is True else "refund_only"
    lines = []
    if oid:
        sku = r.get("sku")
        lines.append(
            ChannelRefundLine(
                channel_line_id=oid,
                channel_sku_id=str(sku) if sku not in (None, "") else None,
                outer_sku_id=str(r["outer_id"]) if r.get("outer_id") not in (None, "") else None,
                qty=num,
                refund_cents=refund_cents,
            )
        )
    return ChannelRefundReceivedV1(
        channel=CHANNEL,
        shop_id=shop_id,
        channel_order_id=tid,
        channel_refund_id=refund_id,
        kind=kind,
        status=REFUND_STATUS.get(status, "unknown"),  # type: ignore[arg-type]
        channel_status=status,
        lines=lines,
        refund_cents=refund_cents,
        reason=reason,
        requested_at=created,
        modified_at=modified,
        received_at=received_at,
    )


def closed_trade(
    trade: dict[str, Any], tid: str, status: str, *, shop_id: str, received_at: datetime
) -> ChannelOrderClosedV1 | None:
    """A closed trade -> `channel.order.closed`; None when the status is not a close."""
    if status not in CLOSE_REASON:
        return None
    p = Problems()
    at = china_time(trade, "end_time", p) or china_time(trade, "modified", p)
    return ChannelOrderClosedV1(
        channel=CHANNEL,
        shop_id=shop_id,
        channel_order_id=tid,
        reason=CLOSE_REASON[status],  # type: ignore[arg-type]
        channel_status=status,
        closed_at=at if not p else None,
        received_at=received_at,
    )
