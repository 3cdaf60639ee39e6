"""Posting rules 记账规则: which voucher each business event becomes, over finance's own projection of orders
(projection.py).

- order.accepted: Dr the receivable paid (1122 the platform's wallet; 112201 the buyer's, for an order on
  account: `RECEIVABLE_ACCOUNTS`); Cr 2205 goods paid; Cr 2206 freight (zero lines omitted).
- goods leave (shipped / picked up): Dr 2205, Cr 6001 for the deferred amounts of the lines that left
  (the order lines the event names, or for a v1 event without line ids, matched by material),
  a partial quantity prorated per unit over what is still deferred (largest remainder, ties to the earlier
  unit, so the shipments of a line add up to its amount exactly and the last one takes what is left); with
  the order's first shipment also Dr 2206, Cr 6051 for the freight not refunded. Units refunded before they
  left (a partial refund) are not expected; if they leave anyway they are booked at 0.
- order.cancelled before any shipment: a reversal voucher mirroring the sale voucher (each line on the
  other side: the CHECK on voucher lines keeps amounts non-negative, so "red" means opposite sides here);
  after a partial refund, the sale less what the refunds already reversed. After a shipment: nothing is
  posted (the refunds are booked from order.refund-approved, aftersales.py); the caller logs a warning.

A merged order's sources (合单, domain/merge.py) are projected and booked with the same rules, each as an
order of its own (`OrderState.merged_into` names the merged order): `project` and `sale` are what `accept`
does.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from omni_contracts.events.order import OrderAcceptedV1, OrderLine

from .accounts import DEFERRED_FREIGHT, DEFERRED_GOODS, FREIGHT_REVENUE, SALES_REVENUE
from .projection import OrderLineState, OrderState, OrderStatus, Source, units_amount
from .vouchers import Line, Voucher, VoucherKind, nonzero

__all__ = [
    "CancelOutcome",
    "InconsistentOrder",
    "OrderLineState",
    "OrderState",
    "OrderStatus",
    "Shipment",
    "ShipmentRejected",
    "Shipped",
    "Source",
    "accept",
    "cancel",
    "project",
    "sale",
    "ship",
    "units_amount",
]


class InconsistentOrder(ValueError):
    """An accepted order whose amounts do not add up: it cannot be booked (retrying cannot help)."""


class ShipmentRejected(ValueError):
    """A shipment that cannot be booked against its order (cancelled order, more than was ordered)."""


# -- order.accepted --
def accept(data: OrderAcceptedV1, source: Source, now: datetime) -> tuple[OrderState, Voucher | None]:
    """The order's projection and its sale voucher (none when nothing was paid)."""
    order = project(
        order_id=data.order_id,
        channel=data.channel,
        channel_order_id=data.channel_order_id,
        currency=data.currency,
        goods_paid_cents=data.goods_paid_cents,
        post_fee_cents=data.post_fee_cents,
        paid_cents=data.paid_cents,
        lines=data.lines,
        payment=data.payment,
    )
    return order, sale(order, source, now)


def project(
    *,
    order_id: str,
    channel: str,
    channel_order_id: str,
    currency: str,
    goods_paid_cents: int,
    post_fee_cents: int,
    paid_cents: int,
    lines: Iterable[OrderLine],
    merged_into: str | None = None,
    payment: str = "paid",
) -> OrderState:
    """An accepted order's projection, once its amounts are seen to add up (InconsistentOrder if not)."""
    lines = list(lines)
    line_sum = sum(x.amount_cents for x in lines)
    if line_sum != goods_paid_cents:
        raise InconsistentOrder(
            f"order {order_id}: line amounts add up to {line_sum}, goods paid is {goods_paid_cents}"
        )
    if goods_paid_cents + post_fee_cents != paid_cents:
        raise InconsistentOrder(
            f"order {order_id}: goods paid {goods_paid_cents} + freight {post_fee_cents} != paid {paid_cents}"
        )
    ids = [x.line_id for x in lines]
    if len(set(ids)) != len(ids):
        raise InconsistentOrder(f"order {order_id}: line ids repeat")
    return OrderState(
        order_id=order_id,
        channel=channel,
        channel_order_id=channel_order_id,
        currency=currency,
        goods_paid_cents=goods_paid_cents,
        post_fee_cents=post_fee_cents,
        paid_cents=paid_cents,
        lines=[
            OrderLineState(i, x.line_id, x.material_code, x.qty, x.amount_cents)
            for i, x in enumerate(lines, 1)
        ],
        merged_into=merged_into,
        payment=payment,
    )


def sale(order: OrderState, source: Source, now: datetime, *, shop_id: str | None = None) -> Voucher | None:
    """The order's sale voucher (none when nothing was paid); sets `order.sale_voucher_id` and sale lines."""
    if order.paid_cents == 0:
        return None
    lines = nonzero(
        [
            ("dr", order.receivable_account, order.paid_cents),
            ("cr", DEFERRED_GOODS, order.goods_paid_cents),
            ("cr", DEFERRED_FREIGHT, order.post_fee_cents),
        ]
    )
    voucher = Voucher.post(
        VoucherKind.SALE,
        order_id=order.order_id,
        source_event_id=source.event_id,
        source_event_type=source.event_type,
        summary=f"Sale: {order.describe(shop_id)} {_paid(order)} {order.paid_cents} "
        f"(goods {order.goods_paid_cents}, freight {order.post_fee_cents})",
        currency=order.currency,
        posted_at=now,
        lines=lines,
        part=source.part(order.order_id),
    )
    order.sale_voucher_id = voucher.voucher_id
    order.sale_lines = voucher.lines
    return voucher


def _paid(order: OrderState) -> str:
    return "on account" if order.payment == "on_account" else "paid"


# -- goods left --
@dataclass(frozen=True)
class Shipment:
    """What one shipment booked: per order line (line_no, units, cents), goods and freight recognised."""

    allocations: tuple[tuple[int, int, int], ...]
    goods_cents: int
    freight_cents: int
    voucher: Voucher | None = field(default=None)


@dataclass(frozen=True)
class Shipped:
    """Units that left: `qty` of `material_code`, for the order line `line_id` when the event names it."""

    material_code: str
    qty: int
    line_id: str | None = None


def ship(
    order: OrderState,
    shipped: Sequence[Shipped],
    source: Source,
    now: datetime,
    what: str = "shipped",
    *,
    virtual: bool = False,
) -> Shipment:
    """Book goods that left against the order: updates `order`, returns the voucher.

    A shipped line that names its order line (`line_id`, fulfillment.shipped / picked-up v2) is booked on
    that line: its material must be the line's and its quantity within what may still leave there. A line
    without one (a v1 event) falls back to matching by material: the quantity is taken from the order's open
    lines of that material in line order (then from units refunded before they left, which leave at 0).
    Nothing is changed when the shipment is rejected. `virtual`: lines the OMS fulfilled without shipping
    (a coupon, a service) when it accepted the order: their revenue only; the freight waits for goods that
    leave, and the order is not shipping (a cancel still reverses all of it, what was recognised too).
    """
    if order.status is OrderStatus.CANCELLED:
        raise ShipmentRejected(
            f"order {order.order_id} was cancelled and its sale reversed; goods that left it cannot become "
            "revenue (a refund or re-sale must be booked by hand)"
        )
    for x in shipped:
        if x.qty <= 0:
            raise ShipmentRejected(f"order {order.order_id}: material {x.material_code} shipped {x.qty}")
    planned: dict[int, int] = {}  # line_no -> units this shipment takes
    plan: list[tuple[OrderLineState, int]] = []

    def take(line: OrderLineState, n: int) -> None:
        planned[line.line_no] = planned.get(line.line_no, 0) + n
        plan.append((line, n))

    def room(line: OrderLineState, *, refunded_too: bool = True) -> int:
        return (line.shippable_qty if refunded_too else line.open_qty) - planned.get(line.line_no, 0)

    by_id = {x.line_id: x for x in order.lines}
    for x in shipped:
        if x.line_id is None:
            continue
        line = by_id.get(x.line_id)
        if line is None:
            raise ShipmentRejected(f"order {order.order_id} has no line {x.line_id}")
        if line.material_code != x.material_code:
            raise ShipmentRejected(
                f"order {order.order_id}: line {x.line_id} is material {line.material_code}, "
                f"not {x.material_code}"
            )
        if x.qty > room(line):
            raise ShipmentRejected(
                f"order {order.order_id}: {x.qty} shipped on line {x.line_id} but only {room(line)} "
                f"of its {line.qty} are still open"
            )
        take(line, x.qty)
    wanted: dict[str, int] = {}
    for x in shipped:
        if x.line_id is None:
            wanted[x.material_code] = wanted.get(x.material_code, 0) + x.qty
    for material, qty in wanted.items():
        left = qty
        for refunded_too in (False, True):  # the open units first, then those refunded before they left
            for line in order.lines:
                n = min(left, room(line, refunded_too=refunded_too))
                if line.material_code == material and n > 0:
                    take(line, n)
                    left -= n
        if left:
            ordered = sum(x.qty for x in order.lines if x.material_code == material)
            if not ordered:
                raise ShipmentRejected(f"order {order.order_id} has no line of material {material}")
            raise ShipmentRejected(
                f"order {order.order_id}: {qty} of material {material} shipped but only {qty - left} "
                f"of the {ordered} ordered are still open"
            )
    allocations = []
    for line, units in plan:
        fresh = min(units, line.open_qty)  # at their deferred value; the rest were refunded: at 0
        if fresh == line.open_qty:
            cents = line.deferred_cents  # the last units to ship take what is left
        else:
            cents = units_amount(line.deferred_cents, line.open_qty, 0, fresh)
        line.cancelled_qty -= units - fresh
        line.shipped_qty += units
        line.recognized_cents += cents
        allocations.append((line.line_no, units, cents))
    goods = sum(c for _, _, c in allocations)
    freight = 0
    if not order.freight_recognized and not virtual:
        freight = order.freight_left_cents
        order.freight_recognized = True
    if not virtual:
        order.status = OrderStatus.SHIPPING
    voucher = None
    if goods or freight:
        voucher = Voucher.post(
            VoucherKind.REVENUE,
            order_id=order.order_id,
            source_event_id=source.event_id,
            source_event_type=source.event_type,
            summary=f"Revenue: {order.label} {what}, goods {goods}"
            + (f", freight {freight}" if freight else ""),
            currency=order.currency,
            posted_at=now,
            lines=nonzero(
                [
                    ("dr", DEFERRED_GOODS, goods),
                    ("dr", DEFERRED_FREIGHT, freight),
                    ("cr", SALES_REVENUE, goods),
                    ("cr", FREIGHT_REVENUE, freight),
                ]
            ),
            part=source.part(order.order_id),
        )
    return Shipment(tuple(allocations), goods, freight, voucher)


# -- order.cancelled --
class CancelOutcome(StrEnum):
    REVERSED = "reversed"  # the sale voucher was reversed
    NOTHING_PAID = "nothing_paid"  # cancelled before shipment, but no sale voucher to reverse
    AFTER_SHIPMENT = "after_shipment"  # goods already left: nothing posted (refunds are booked apart)
    ALREADY_CANCELLED = "already_cancelled"
    NOTHING_LEFT = "nothing_left"  # partial refunds had already reversed all of the sale


def cancel(
    order: OrderState, source: Source, now: datetime, reason: str = ""
) -> tuple[CancelOutcome, Voucher | None]:
    """Cancel the order: reverse its sale voucher when nothing has shipped yet (what is left of it, when
    refunds reversed part of it already)."""
    if order.status is OrderStatus.CANCELLED:
        return CancelOutcome.ALREADY_CANCELLED, None
    if order.cancelled_at is None:
        order.cancelled_at = now
    if order.status is OrderStatus.SHIPPING:
        return CancelOutcome.AFTER_SHIPMENT, None
    order.status = OrderStatus.CANCELLED
    if order.sale_voucher_id is None:
        return CancelOutcome.NOTHING_PAID, None
    why = f" ({reason[:120]})" if reason else ""
    partly = order.refunded or any(x.recognized_cents for x in order.lines)  # refunds, virtual lines
    lines = _what_is_left(order) if partly else [x.reversed() for x in order.sale_lines]
    if not lines:
        return CancelOutcome.NOTHING_LEFT, None
    voucher = Voucher.post(
        VoucherKind.REVERSAL,
        order_id=order.order_id,
        source_event_id=source.event_id,
        source_event_type=source.event_type,
        summary=f"Reversal: {order.label} cancelled before shipment{why}",
        currency=order.currency,
        posted_at=now,
        lines=lines,
        reverses_voucher_id=order.sale_voucher_id,
        part=source.part(order.order_id),
    )
    return CancelOutcome.REVERSED, voucher


def _what_is_left(order: OrderState) -> list[Line]:
    """The reversal of a sale that refunds reversed in part: what is still deferred (and recognised, for a
    refund that kept money for units that will not leave) back to the account the sale debited."""
    debited = next((x.account_code for x in order.sale_lines if x.debit_cents), order.receivable_account)
    goods_deferred = sum(x.deferred_cents for x in order.lines)
    goods_revenue = sum(x.revenue_cents for x in order.lines)
    freight = order.freight_left_cents
    freight_deferred, freight_revenue = (0, freight) if order.freight_recognized else (freight, 0)
    total = goods_deferred + goods_revenue + freight
    if not total:
        return []
    return nonzero(
        [
            ("cr", debited, total),
            ("dr", DEFERRED_GOODS, goods_deferred),
            ("dr", DEFERRED_FREIGHT, freight_deferred),
            ("dr", SALES_REVENUE, goods_revenue),
            ("dr", FREIGHT_REVENUE, freight_revenue),
        ]
    )
