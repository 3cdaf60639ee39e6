"""What every platform adapter shares (pure): exact id, money and time readers that add to a `Problems` list,
and `build`, which turns the adapter's lines and amounts into a `channel.order.received` v2 (the same
normalised order Tmall produces), checking that the amounts add up and allocating order-level discounts to
the lines by the largest remainder where the platform gives no per-line amounts.

Ids: JSON is parsed from its text (`parse_json`), so an integer id beyond 2^53 sent as a JSON number keeps
every digit here (Python ints are exact); a `<name>_str` twin, when sent, wins. Messages name the field,
never a receiver's value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from omni_contracts.events.channel import (
    Address,
    ChannelOrderLineV2,
    ChannelOrderReceivedV2,
    ProtectedReceiver,
)

from .errors import InvalidTrade, Problem
from .limits import too_many_lines
from .money import MoneyFormatError, largest_remainder
from .signing import parse_china_time
from .tmall import Accepted, NotForFulfilment
from .tmall_fields import Problems, is_int, kind, text, yuan

EMPTY_TIMES = ("0001-01-01 00:00:00", "1970-01-01 00:00:00", "1970-01-01 08:00:00")
TEXT_CAP = 1000


def exact_id(obj: dict[str, Any], name: str, path: str, p: Problems, *, required: bool = True) -> str | None:
    """`<name>_str` over `<name>`; digits (or, for alphanumeric platform ids, a short token), any size."""
    for key in (f"{name}_str", name):
        value = obj.get(key)
        if value is None or value == "":
            continue
        if is_int(value) and value >= 0:
            return str(value)
        if (
            isinstance(value, str)
            and value.isascii()
            and value.strip()
            and len(value) <= 64
            and " " not in value
        ):
            return value
        p.add(f"{path}{key}", f"must be an id (digits or a string), got {kind(value)}")
        return None
    if required:
        p.add(f"{path}{name}", "missing")
    return None


def amount(
    obj: dict[str, Any],
    key: str,
    path: str,
    p: Problems,
    reader: Callable[[object], int],
    *,
    required: bool = False,
) -> int | None:
    value = obj.get(key)
    if value is None or value == "":
        if required:
            p.add(f"{path}{key}", "missing")
        return None
    try:
        return reader(value)
    except MoneyFormatError as exc:
        p.add(f"{path}{key}", str(exc))
        return None


def count(obj: dict[str, Any], key: str, path: str, p: Problems) -> int | None:
    """A positive quantity: a JSON integer or (JD) a string of digits."""
    value = obj.get(key)
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    if value is None or value == "":
        p.add(f"{path}{key}", "missing")
        return None
    if not is_int(value) or value <= 0:
        p.add(f"{path}{key}", f"must be a positive integer, got {kind(value)}")
        return None
    return value


def china_time(
    obj: dict[str, Any], key: str, path: str, p: Problems, *, required: bool = False
) -> datetime | None:
    """`yyyy-MM-dd HH:mm:ss` GMT+8; JD's `0001-01-01 00:00:00` / `1970-…` mean empty."""
    value = obj.get(key)
    if value in (None, "") or value in EMPTY_TIMES:
        if required:
            p.add(f"{path}{key}", "missing")
        return None
    if not isinstance(value, str):
        p.add(f"{path}{key}", f"must be 'yyyy-MM-dd HH:mm:ss' (GMT+8), got {kind(value)}")
        return None
    try:
        return parse_china_time(value)
    except ValueError as exc:
        p.add(f"{path}{key}", str(exc))
        return None


def epoch_time(
    obj: dict[str, Any], key: str, path: str, p: Problems, *, millis: bool, required: bool = False
) -> datetime | None:
    """Unix seconds (Douyin) or milliseconds (Xiaohongshu) -> aware UTC; 0 means empty."""
    value = obj.get(key)
    if value in (None, "", 0):
        if required:
            p.add(f"{path}{key}", "missing")
        return None
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if not is_int(value) or value < 0:
        p.add(f"{path}{key}", f"must be unix {'milliseconds' if millis else 'seconds'}, got {kind(value)}")
        return None
    try:
        seconds, ms = divmod(value, 1000) if millis else (value, 0)
        return datetime.fromtimestamp(seconds, tz=UTC) + timedelta(milliseconds=ms)
    except (OverflowError, ValueError, OSError):
        p.add(f"{path}{key}", f"is not a time: {value}")
        return None


def txt(obj: Any, key: str, path: str, p: Problems, cap: int = TEXT_CAP) -> str:
    """obj[key] as trimmed text, refused (with the lengths, never the value) beyond `cap` characters."""
    value = text(obj.get(key)) if isinstance(obj, dict) else ""
    if len(value) > cap:
        p.add(f"{path}{key}", f"too long: {len(value)} characters, at most {cap}")
    return value


def obj_at(doc: Any, path: str, p: Problems) -> dict[str, Any]:
    """`doc` must be an object (else a problem at `path`, and an empty dict)."""
    if isinstance(doc, dict):
        return doc
    if doc is not None:
        p.add(path, f"must be an object, got {kind(doc)}")
    return {}


def list_at(obj: dict[str, Any], key: str, path: str, p: Problems, *, required: bool) -> list[dict[str, Any]]:
    value = obj.get(key)
    if value is None:
        if required:
            p.add(f"{path}{key}", "missing: the order has no lines")
        return []
    if not isinstance(value, list):
        p.add(f"{path}{key}", f"must be a list, got {kind(value)}")
        return []
    if required and not value:
        p.add(f"{path}{key}", "empty: the order has no lines")
    many = too_many_lines(len(value))
    if many:
        p.add(f"{path}{key}", many)
        return []
    out = []
    for i, item in enumerate(value):
        if isinstance(item, dict):
            out.append(item)
        else:
            p.add(f"{path}{key}[{i}]", f"must be an object, got {kind(item)}")
    return out


@dataclass
class Line:
    path: str
    line_id: str | None
    item_id: str | None
    sku_id: str | None
    outer_sku_id: str | None
    outer_iid: str | None
    title: str
    qty: int | None
    price: int | None  # unit price, cents
    paid: int | None = None  # None: allocated by `build` from the order-level discount
    discount: int = 0  # a discount known to belong to this line (taken before the allocation)
    refund_status: str = "none"
    platform_refund_status: str = ""

    @property
    def gross(self) -> int:
        return (self.price or 0) * (self.qty or 0)


def allocate(lines: list[Line], order_discount: int, path: str, p: Problems) -> None:
    """Lines without a paid amount: gross − their own discount − a largest-remainder share of
    `order_discount` (weighted by what is left of each line)."""
    open_lines = [ln for ln in lines if ln.paid is None]
    weights = [max(0, ln.gross - ln.discount) for ln in open_lines]
    if order_discount > sum(weights):
        p.add(
            path,
            f"the discount {yuan(order_discount)} is more than the lines are worth ({yuan(sum(weights))})",
        )
        return
    for ln, w, share in zip(open_lines, weights, largest_remainder(order_discount, weights), strict=True):
        ln.paid = w - share


@dataclass(frozen=True)
class Order:
    channel: str
    shop_id: str
    order_id: str
    status: str
    lines: list[Line]
    post_fee: int
    paid: int
    paid_path: str
    created_at: datetime | None
    paid_at: datetime | None
    received_at: datetime
    receiver: Address
    protected: ProtectedReceiver | None = None
    goods: int | None = None  # the platform's goods total, checked against Σ price × qty when given
    goods_path: str = ""
    buyer_id: str = ""
    buyer_message: str = ""
    seller_memo: str = ""
    delivery: str = "express"
    pickup_node: str | None = None
    presale_stage: str = "none"
    payment: str = "paid"  # on_account: a B2B order delivered unpaid on credit terms (1688 period, creditBuy)
    payment_terms: str = ""  # the platform's own payment type (1688 tradeTypeCode)
    due_at: datetime | None = None  # on_account: the due date, when the platform says


def build(o: Order, p: Problems) -> Accepted:
    """The normalised event, or InvalidTrade with every problem (those found before and the sums')."""
    lines = o.lines
    if lines and all(ln.qty is not None and ln.price is not None and ln.paid is not None for ln in lines):
        gross = sum(ln.gross for ln in lines)
        if o.goods is not None and o.goods != gross:
            p.add(o.goods_path, f"{yuan(o.goods)} is not Σ price × qty of the lines ({yuan(gross)})")
        total = sum(ln.paid for ln in lines) + o.post_fee  # type: ignore[misc]
        if total != o.paid:
            p.add(
                o.paid_path,
                f"{yuan(o.paid)} is not Σ line paid ({yuan(total - o.post_fee)}) "
                f"+ freight ({yuan(o.post_fee)})",
            )
        for ln in lines:
            if ln.paid < 0:  # type: ignore[operator]
                p.add(ln.path, f"the line's paid amount comes out negative ({yuan(ln.paid)})")  # type: ignore[arg-type]
    if p:
        raise InvalidTrade(p.items)
    goods = sum(ln.gross for ln in lines)
    paid_lines = sum(ln.paid for ln in lines)  # type: ignore[misc]
    try:
        event = ChannelOrderReceivedV2(
            channel=o.channel,
            shop_id=o.shop_id,
            channel_order_id=o.order_id,
            channel_status=o.status,
            business_model="B2C",
            delivery=o.delivery,
            pickup_node=o.pickup_node,
            buyer_id=o.buyer_id,
            receiver=o.receiver,
            lines=[
                ChannelOrderLineV2(
                    channel_line_id=ln.line_id,  # type: ignore[arg-type]
                    channel_item_id=ln.item_id,  # type: ignore[arg-type]
                    channel_sku_id=ln.sku_id or None,
                    outer_sku_id=ln.outer_sku_id or None,
                    outer_iid=ln.outer_iid or None,
                    title=ln.title,
                    qty=ln.qty,  # type: ignore[arg-type]
                    unit_price_cents=ln.price,  # type: ignore[arg-type]
                    paid_cents=ln.paid,  # type: ignore[arg-type]
                    discount_cents=max(0, ln.gross - ln.paid),  # type: ignore[operator]
                    refund_status=ln.refund_status,
                    platform_refund_status=ln.platform_refund_status,
                )
                for ln in lines
            ],
            goods_cents=goods,
            discount_cents=max(0, goods - paid_lines),
            post_fee_cents=o.post_fee,
            paid_cents=o.paid,
            currency="CNY",
            created_at=o.created_at,
            paid_at=o.paid_at,
            received_at=o.received_at,
            buyer_message=o.buyer_message,
            protected_receiver=o.protected,
            presale_stage=o.presale_stage,
            seller_memo=o.seller_memo,
            payment=o.payment,
            payment_terms=o.payment_terms,
            due_at=o.due_at,
        )
    except ValidationError as exc:
        raise InvalidTrade(
            [Problem(".".join(str(x) for x in e["loc"]) or "$", e["msg"]) for e in exc.errors()]
        ) from None
    return Accepted(event)


def not_for_fulfilment(order_id: str, status: str, reason: str) -> NotForFulfilment:
    return NotForFulfilment(order_id, status, reason)


__all__ = [
    "Accepted",
    "Line",
    "NotForFulfilment",
    "Order",
    "Problems",
    "allocate",
    "amount",
    "build",
    "china_time",
    "count",
    "epoch_time",
    "exact_id",
    "list_at",
    "obj_at",
    "txt",
]
