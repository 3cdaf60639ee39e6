"""Taobao/Tmall `taobao.trade.fullinfo.get` trade -> `channel.order.received` v2. Pure.

v2 fields Tmall fills: `oaid` (the merge key), each order's `refund_status`, the presale stage
(`step_trade_status`), `seller_memo`.

Accepted shapes of the document (see `/work/shared/reference/channels/taobao.md`):
- `{"trade_fullinfo_get_response": {"trade": {...}, "request_id": ...}}` (the default TOP answer),
- `{"trade": {...}}`, or the bare trade object (`simplify=true` drops the outer key);
- lines as `orders: {"order": [...]}` (default list wrapping) or `orders: [...]` (`simplify=true`).

Ids: `tid_str` / `oid_str` win over `tid` / `oid`. Modern ids have 19 digits (> 2^53): a JSON-number id
above 2^53 without its `_str` twin is refused (it has most likely been rounded by a float-based JSON writer
before it reached us), as are ids that are not plain positive integers and `tid` / `tid_str` pairs that
disagree.

Money: yuan strings -> integer cents exactly; numbers, negatives, > 2 decimals are refused.

What each line paid (after every discount, freight excluded), in this order of preference:
1. `divide_order_fee` (the platform's own apportioned net);
2. else the order's `payment` minus `part_mjz_discount` (the apportioned shop-level discount, when given),
   minus the trade's `post_fee` on a single-line trade (whose order `payment` includes freight);
3. else `price × num + adjust_fee − discount_fee − part_mjz_discount`.
Then Σ line paid + `post_fee` must equal the trade's `payment`. The one tolerated quirk (documented in
taobao.md: "If divide_order_fee is absent, allocate trade-level discount yourself by line payment share"):
when no line carries `divide_order_fee` and the lines add up to more than was paid by at most the trade's
`discount_fee`, the difference is the unapportioned shop-level discount and is spread over the lines by
their share (largest remainder, so the cents add up). Any other mismatch is refused.

Trade amounts: goods = `total_fee` (checked against Σ price × num), discount = goods − Σ line paid (every
discount on the goods, so goods − discount + post_fee = paid whenever nothing was marked up), post_fee, paid
= `payment`. A line's discount is price × num − its paid amount (0 if it was marked up).

Caps (see limits.py): at most 200 lines per trade, and free-text fields (buyer message, titles, receiver,
invoice, store ids) at most a documented length each; beyond them the trade is refused (422), so that every
accepted trade makes an event far below what the broker takes.

Other checks: `num` a positive integer; `num_iid` present; `total_fee` (when given) = Σ price × num;
times are `yyyy-MM-dd HH:mm:ss` GMT+8 (-> aware UTC); required: tid, status, payment, orders (≥ 1 line),
created. Every problem found is reported at once, each with its path in the trade.

Statuses: only paid trades that still need shipping are published: `WAIT_SELLER_SEND_GOODS` and
`SELLER_CONSIGNED_PART` (partly shipped; `channel_status` tells the order service). Everything else is
answered "not accepted" with a reason and is not published: unpaid (`WAIT_BUYER_PAY`, `TRADE_NO_CREATE_PAY`,
`PAY_PENDING`, `WAIT_PRE_AUTH_CONFIRM`), `PAID_FORBID_CONSIGN` (paid but the platform forbids shipping, e.g.
a group buy not yet formed: it comes again as WAIT_SELLER_SEND_GOODS), already shipped or finished, and
closed (cancellations are handled elsewhere). A presale whose balance is unpaid (`step_trade_status` other
than FRONT_PAID_FINAL_PAID) is not published either. An unknown status is refused (422).

Delivery: `store_pickup` when the trade says so (`o2o_delivery == "inshop"`, 导购宝 in-store pickup, or
`rt_omni_send_type == "pickUp"`, 新零售全渠道 pickup; the store is `rt_omni_outer_store_id`,
`rt_omni_store_id` or `o2o_shop_id`); otherwise `express`. Business model: B2C.

Invoice (fields not covered by taobao.md; names from the TOP Trade struct, mapping reconstructed): when
`invoice_name` (the title, 发票抬头) is present: `invoice_kind` "1" electronic / "2" paper / "3" special
VAT; `invoice_type` mentioning 专用/special also makes it special; `buyer_tax_no` is the tax id.

Receiver: receiver_* -> Address; a province-administered county (e.g. 济源) comes with an empty
`receiver_city` and the place in `receiver_district`: it becomes the city too (TOP's own advice).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from omni_contracts.events.channel import (
    ChannelOrderLineV2,
    ChannelOrderReceivedV2,
    ProtectedReceiver,
)

from .errors import InvalidTrade, Problem
from .limits import too_many_lines
from .money import largest_remainder
from .tmall_fields import MAX_SAFE_INTEGER, parse_json  # re-exported: the adapter's public readers
from .tmall_fields import Problems as _Problems
from .tmall_fields import capped as _capped
from .tmall_fields import china_time as _time
from .tmall_fields import kind as _kind
from .tmall_fields import money as _money
from .tmall_fields import platform_id as _platform_id
from .tmall_fields import qty as _qty
from .tmall_fields import text as _text
from .tmall_fields import yuan as _yuan
from .tmall_parts import REFUND_STATUSES
from .tmall_parts import address as _address
from .tmall_parts import delivery as _delivery
from .tmall_parts import invoice as _invoice

CHANNEL = "tmall"

FULFIL_STATUSES = frozenset({"WAIT_SELLER_SEND_GOODS", "SELLER_CONSIGNED_PART"})
NOT_FOR_FULFILMENT: dict[str, str] = {
    "TRADE_NO_CREATE_PAY": "not paid yet (no Alipay trade created)",
    "WAIT_BUYER_PAY": "not paid yet",
    "PAY_PENDING": "payment not confirmed yet",
    "WAIT_PRE_AUTH_CONFIRM": "pre-authorised zero-price contract, not paid",
    "PAID_FORBID_CONSIGN": "paid, but the platform forbids shipping for now "
    "(e.g. a group buy not yet formed); it will come again as WAIT_SELLER_SEND_GOODS",
    "WAIT_BUYER_CONFIRM_GOODS": "already shipped",
    "TRADE_BUYER_SIGNED": "already delivered (cash on delivery)",
    "TRADE_FINISHED": "already finished",
    "TRADE_CLOSED": "closed after a full refund",
    "TRADE_CLOSED_BY_TAOBAO": "closed before payment",
}
PRESALE_FULLY_PAID = "FRONT_PAID_FINAL_PAID"


@dataclass(frozen=True)
class Accepted:
    """A trade to publish."""

    event: ChannelOrderReceivedV2

    @property
    def channel_order_id(self) -> str:
        return self.event.channel_order_id


@dataclass(frozen=True)
class NotForFulfilment:
    """A well-identified trade in a status that needs no fulfilment now: answered 202, not published."""

    channel_order_id: str
    channel_status: str
    reason: str


# ---------------------------------------------------------------------------------------------- JSON


# ------------------------------------------------------------------------------------------ normalise


def normalise_trade(doc: Any, *, shop_id: str, received_at: datetime) -> Accepted | NotForFulfilment:
    """The parsed JSON document -> what to do with it. Raises InvalidTrade listing every problem."""
    trade = _unwrap(doc)
    p = _Problems()
    tid = _trade_id(trade, p)
    status = _status(trade, p)
    if p:
        raise InvalidTrade(p.items)
    assert tid is not None and status is not None
    if status not in FULFIL_STATUSES:
        return NotForFulfilment(tid, status, f"status {status}: {NOT_FOR_FULFILMENT[status]}")
    step = trade.get("step_trade_status")
    if step not in (None, "", PRESALE_FULLY_PAID):
        return NotForFulfilment(tid, status, f"presale balance not paid (step_trade_status {step})")
    return Accepted(_event(trade, tid, status, shop_id, received_at, p))


def _unwrap(doc: Any) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise InvalidTrade([Problem("$", f"the body must be a JSON object (a trade), got {_kind(doc)}")])
    if "error_response" in doc:
        err = doc["error_response"]
        code = err.get("code") if isinstance(err, dict) else None
        raise InvalidTrade(
            [Problem("error_response", f"this is a TOP error response (code {code}), not a trade")]
        )
    if "trade_fullinfo_get_response" in doc:
        resp = doc["trade_fullinfo_get_response"]
        if not isinstance(resp, dict) or not isinstance(resp.get("trade"), dict):
            raise InvalidTrade(
                [Problem("trade_fullinfo_get_response.trade", "missing: expected the trade object")]
            )
        return resp["trade"]
    if "trade" in doc and "tid" not in doc and "tid_str" not in doc:
        if not isinstance(doc["trade"], dict):
            raise InvalidTrade([Problem("trade", f"must be the trade object, got {_kind(doc['trade'])}")])
        return doc["trade"]
    return doc


def _trade_id(trade: dict[str, Any], p: _Problems) -> str | None:
    return _platform_id(trade, "tid", "", p, required=True)


def _status(trade: dict[str, Any], p: _Problems) -> str | None:
    status = trade.get("status")
    if status in (None, ""):
        p.add("status", "missing")
        return None
    if not isinstance(status, str) or (status not in FULFIL_STATUSES and status not in NOT_FOR_FULFILMENT):
        p.add("status", f"unknown trade status {status!r}")
        return None
    return status


@dataclass
class _Line:
    path: str
    oid: str | None
    num_iid: str | None
    sku_id: str | None
    outer_sku_id: str | None
    outer_iid: str | None
    title: str
    qty: int | None
    price: int | None
    paid: int | None
    paid_from_platform: bool  # divide_order_fee was given
    refund: str = ""  # the order's refund_status (v2)


def _event(
    trade: dict[str, Any], tid: str, status: str, shop_id: str, received_at: datetime, p: _Problems
) -> ChannelOrderReceivedV2:
    payment = _money(trade, "payment", "payment", p, required=True)
    post_fee = _money(trade, "post_fee", "post_fee", p) or 0
    total_fee = _money(trade, "total_fee", "total_fee", p)
    discount_fee = _money(trade, "discount_fee", "discount_fee", p) or 0
    created = _time(trade, "created", p, required=True)
    pay_time = _time(trade, "pay_time", p)
    raw_orders, orders_path = _orders(trade, p)
    single = len(raw_orders) == 1
    lines = [_line(o, f"{orders_path}[{i}]", single, post_fee, p) for i, o in enumerate(raw_orders)]

    if lines and all(ln.qty is not None and ln.price is not None for ln in lines):
        goods = sum(ln.price * ln.qty for ln in lines)  # type: ignore[operator]
        if total_fee is not None and total_fee != goods:
            p.add("total_fee", f"{_yuan(total_fee)} is not Σ price × num of the lines ({_yuan(goods)})")
    else:
        goods = total_fee or 0
    if payment is not None and lines and all(ln.paid is not None for ln in lines):
        _reconcile(lines, payment, post_fee, discount_fee, p)

    receiver = _address(trade, p)
    invoice = _invoice(trade, p)
    delivery, pickup_node = _delivery(trade, p)
    buyer_id, buyer_message = _capped(trade, "buyer_open_uid", p), _capped(trade, "buyer_message", p)
    oaid = _text(trade.get("oaid"))[:256]
    if p:
        raise InvalidTrade(p.items)
    assert payment is not None and created is not None
    paid_lines = sum(ln.paid for ln in lines)  # type: ignore[misc]
    try:
        return ChannelOrderReceivedV2(
            channel=CHANNEL,
            shop_id=shop_id,
            channel_order_id=tid,
            channel_status=status,
            business_model="B2C",
            delivery=delivery,
            pickup_node=pickup_node,
            buyer_id=buyer_id,
            receiver=receiver,
            lines=[
                ChannelOrderLineV2(
                    channel_line_id=ln.oid,  # type: ignore[arg-type]
                    channel_item_id=ln.num_iid,  # type: ignore[arg-type]
                    channel_sku_id=ln.sku_id,
                    outer_sku_id=ln.outer_sku_id,
                    outer_iid=ln.outer_iid,
                    title=ln.title,
                    qty=ln.qty,  # type: ignore[arg-type]
                    unit_price_cents=ln.price,  # type: ignore[arg-type]
                    paid_cents=ln.paid,  # type: ignore[arg-type]
                    discount_cents=max(0, ln.price * ln.qty - ln.paid),  # type: ignore[operator]
                    refund_status=REFUND_STATUSES.get(ln.refund, "none"),
                    platform_refund_status=ln.refund,
                )
                for ln in lines
            ],
            goods_cents=goods,
            discount_cents=max(0, goods - paid_lines),
            post_fee_cents=post_fee,
            paid_cents=payment,
            currency="CNY",
            created_at=created,
            paid_at=pay_time,
            received_at=received_at,
            buyer_message=buyer_message,
            invoice=invoice,
            protected_receiver=ProtectedReceiver(merge_key=oaid, merge_key_kind="oaid") if oaid else None,
            presale_stage="final_paid" if trade.get("step_trade_status") == PRESALE_FULLY_PAID else "none",
            seller_memo=_text(trade.get("seller_memo"))[:1000],
        )
    except ValidationError as exc:  # a gap in the checks above: still answer with what is wrong
        raise InvalidTrade(
            [Problem(".".join(str(x) for x in e["loc"]) or "$", e["msg"]) for e in exc.errors()]
        ) from None


def _orders(trade: dict[str, Any], p: _Problems) -> tuple[list[dict[str, Any]], str]:
    orders = trade.get("orders")
    path = "orders"
    if orders is None:
        p.add("orders", "missing: the trade has no lines")
        return [], path
    if isinstance(orders, dict):
        orders, path = orders.get("order"), "orders.order"
        if orders is None:
            p.add(path, 'missing: expected orders: {"order": [...]} or orders: [...]')
            return [], path
    if not isinstance(orders, list):
        p.add(path, f"must be a list of orders, got {_kind(orders)}")
        return [], path
    if not orders:
        p.add(path, "empty: the trade has no lines")
    many = too_many_lines(len(orders))
    if many:  # refused before its lines are read: say so, and what else is wrong with the trade
        p.add(path, many)
        return [], path
    good = []
    for i, o in enumerate(orders):
        if isinstance(o, dict):
            good.append(o)
        else:
            p.add(f"{path}[{i}]", f"must be an order object, got {_kind(o)}")
    return good, path


def _line(o: dict[str, Any], path: str, single: bool, post_fee: int, p: _Problems) -> _Line:
    pre = f"{path}."
    oid = _platform_id(o, "oid", pre, p, required=True)
    num_iid = _platform_id(o, "num_iid", pre, p, required=True)
    qty = _qty(o.get("num"), f"{pre}num", p)
    price = _money(o, "price", f"{pre}price", p, required=True)
    divide = _money(o, "divide_order_fee", f"{pre}divide_order_fee", p)
    payment = _money(o, "payment", f"{pre}payment", p)
    part_mjz = _money(o, "part_mjz_discount", f"{pre}part_mjz_discount", p) or 0
    discount = _money(o, "discount_fee", f"{pre}discount_fee", p) or 0
    adjust = _money(o, "adjust_fee", f"{pre}adjust_fee", p) or 0
    sku_id = o.get("sku_id")
    if isinstance(sku_id, bool) or (sku_id is not None and not isinstance(sku_id, str | int)):
        p.add(f"{pre}sku_id", f"must be a string, got {_kind(sku_id)}")
        sku_id = None
    else:
        sku_id = _capped(o, "sku_id", p, pre)
    paid: int | None = None
    if divide is not None:
        paid = divide
    elif payment is not None:
        paid = payment - part_mjz - (post_fee if single else 0)
    elif price is not None and qty is not None:
        paid = price * qty + adjust - discount - part_mjz
    else:
        p.add(f"{pre}divide_order_fee", "missing, and there is no payment or price × num to derive it from")
    if paid is not None and paid < 0:
        p.add(f"{pre}divide_order_fee", f"the line's paid amount comes out negative ({_yuan(paid)})")
        paid = None
    return _Line(
        path=path,
        oid=oid,
        num_iid=num_iid,
        sku_id=sku_id or None,
        outer_sku_id=_capped(o, "outer_sku_id", p, pre) or None,
        outer_iid=_capped(o, "outer_iid", p, pre) or None,
        title=_capped(o, "title", p, pre),
        qty=qty,
        price=price,
        paid=paid,
        paid_from_platform=divide is not None,
        refund=_text(o.get("refund_status"))[:64],
    )


def _reconcile(lines: list[_Line], payment: int, post_fee: int, discount_fee: int, p: _Problems) -> None:
    """Σ line paid + post_fee == payment, or the one documented quirk (see the module doc)."""
    total = sum(ln.paid for ln in lines) + post_fee  # type: ignore[misc]
    if total == payment:
        return
    excess = total - payment
    if not any(ln.paid_from_platform for ln in lines) and 0 < excess <= discount_fee:
        _spread(lines, excess)
        return
    p.add(
        "payment",
        f"{_yuan(payment)} is not Σ line paid ({_yuan(total - post_fee)}) + post_fee ({_yuan(post_fee)}) "
        f"= {_yuan(total)}",
    )


def _spread(lines: list[_Line], amount: int) -> None:
    """Take `amount` cents off the lines in proportion to what they paid (largest remainder)."""
    shares = largest_remainder(amount, [ln.paid for ln in lines])  # type: ignore[misc]
    for ln, share in zip(lines, shares, strict=True):
        ln.paid -= share  # type: ignore[operator]


__all__ = [
    "CHANNEL",
    "FULFIL_STATUSES",
    "MAX_SAFE_INTEGER",
    "NOT_FOR_FULFILMENT",
    "Accepted",
    "NotForFulfilment",
    "normalise_trade",
    "parse_json",
]
